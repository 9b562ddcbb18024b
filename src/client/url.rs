//! Where to connect: a Socket.IO URL (`https://example.com/chat?x=1`) split into the
//! Engine.IO endpoint and the namespace, as socket.io-client reads it.
//!
//! Pure string work, no IO; it must not know anything of connections or the browser.

/// The Engine.IO endpoint and the namespace of a Socket.IO URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http[s]://host[:port]{path}?EIO=4[&query]` (WebSockets go to its `ws[s]:` twin).
    pub engine_url: String,
    /// The URL's path, `"/"` when empty.
    pub namespace: String,
}

/// Why a URL cannot be connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// Only `http`, `https`, `ws` and `wss` URLs name a Socket.IO server.
    Scheme,
    /// The URL has no host.
    Host,
    /// A failover list with no URL.
    NoUrl,
    /// The URLs of a failover list name different namespaces.
    Namespaces,
}

impl UrlError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Scheme => "the URL must start with http://, https://, ws:// or wss://",
            Self::Host => "the URL has no host",
            Self::NoUrl => "the list of URLs is empty",
            Self::Namespaces => "the URLs of a failover list must name the same namespace",
        }
    }
}

/// The targets of a failover list of URLs, in its order: at least one, all of one
/// namespace.
pub fn targets(urls: &[&str], path: &str) -> Result<Vec<Target>, UrlError> {
    let targets = urls
        .iter()
        .map(|url| target(url, path))
        .collect::<Result<Vec<_>, _>>()?;
    let first = targets.first().ok_or(UrlError::NoUrl)?;
    if targets.iter().any(|t| t.namespace != first.namespace) {
        return Err(UrlError::Namespaces);
    }
    Ok(targets)
}

/// Splits `url`; `path` is the Engine.IO path (socket.io-client's `path` option,
/// `"/socket.io"` by default; a trailing slash is added as socket.io-client does).
pub fn target(url: &str, path: &str) -> Result<Target, UrlError> {
    let (scheme, rest) = url.split_once("://").ok_or(UrlError::Scheme)?;
    let secure = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => false,
        "https" | "wss" => true,
        _ => return Err(UrlError::Scheme),
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, query),
        None => (rest, ""),
    };
    let (host, namespace) = match before_query.find('/') {
        Some(slash) => before_query.split_at(slash),
        None => (before_query, "/"),
    };
    if host.is_empty() {
        return Err(UrlError::Host);
    }
    let mut engine_url = String::from(if secure { "https://" } else { "http://" });
    engine_url.push_str(host);
    engine_url.push_str(path.trim_end_matches('/'));
    engine_url.push_str("/?EIO=4");
    if !query.is_empty() {
        engine_url.push('&');
        engine_url.push_str(query);
    }
    Ok(Target {
        engine_url,
        namespace: namespace.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::{target, targets, Target, UrlError};

    fn split(url: &str) -> Result<Target, UrlError> {
        target(url, "/socket.io")
    }

    #[test]
    fn reads_scheme_host_namespace_and_query() {
        assert_eq!(
            split("https://example.com:8443/chat?token=1#frag"),
            Ok(Target {
                engine_url: "https://example.com:8443/socket.io/?EIO=4&token=1".into(),
                namespace: "/chat".into(),
            })
        );
        assert_eq!(
            split("http://127.0.0.1:3000").map(|t| (t.engine_url, t.namespace)),
            Ok(("http://127.0.0.1:3000/socket.io/?EIO=4".into(), "/".into()))
        );
        assert_eq!(
            target("ws://h/admin", "/custom/").map(|t| t.engine_url),
            Ok("http://h/custom/?EIO=4".into())
        );
    }

    #[test]
    fn refuses_what_is_not_a_socket_io_server() {
        assert_eq!(split("ftp://example.com"), Err(UrlError::Scheme));
        assert_eq!(split("example.com/chat"), Err(UrlError::Scheme));
        assert_eq!(split("http:///chat"), Err(UrlError::Host));
    }

    #[test]
    fn a_failover_list_names_one_namespace() {
        let list = targets(&["http://a/chat", "https://b:8443/chat?x=1"], "/socket.io");
        assert_eq!(
            list.map(|all| all.into_iter().map(|t| t.engine_url).collect::<Vec<_>>()),
            Ok(vec![
                "http://a/socket.io/?EIO=4".to_owned(),
                "https://b:8443/socket.io/?EIO=4&x=1".to_owned(),
            ])
        );
        assert_eq!(targets(&[], "/socket.io"), Err(UrlError::NoUrl));
        assert_eq!(
            targets(&["http://a/chat", "http://b/news"], "/socket.io"),
            Err(UrlError::Namespaces)
        );
        assert_eq!(
            targets(&["http://a/", "ftp://b/"], "/socket.io"),
            Err(UrlError::Scheme)
        );
    }
}
