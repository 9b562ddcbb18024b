//! HTTP long-polling requests, through the browser's `XMLHttpRequest`.
//!
//! [`PollingTransport`] sends the GETs and POSTs the core asks for to one Engine.IO
//! endpoint and reports each outcome as a [`PollEvent`] through one handler. It knows
//! nothing of Engine.IO: bodies go out and come in as text, and their meaning (and when
//! to send what) is the caller's business.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::JsString;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, XmlHttpRequest};

/// How every request of the connection is made (socket.io-client's `extraHeaders`,
/// `withCredentials` and `requestTimeout`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpSettings {
    pub headers: Vec<(String, String)>,
    /// Send cookies and HTTP authentication on cross-origin requests too.
    pub with_credentials: bool,
    /// Milliseconds after which a request fails; 0 for none.
    pub timeout: u32,
}

/// What became of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum PollEvent {
    /// The GET answered (HTTP 200) with this body.
    Polled(String),
    /// The POST was accepted (HTTP 200).
    Posted,
    /// The request failed: network error, timeout, an HTTP status other than 200, or a
    /// response larger than allowed. `post` tells which request.
    Failed { post: bool },
}

type Handler = RefCell<Box<dyn FnMut(PollEvent)>>;

/// One request in flight: the XHR and the closure of its `loadend` event.
struct Request {
    xhr: XmlHttpRequest,
    _on_end: Closure<dyn FnMut(Event)>,
}

/// The requests of one long-polling transport.
///
/// Dropping it aborts its GET and lets a POST already sent finish (it may carry the
/// client's last packets); either way nothing more reaches the handler.
pub struct PollingTransport {
    shared: Rc<Shared>,
}

struct Shared {
    settings: Rc<HttpSettings>,
    max_body: usize,
    handler: Handler,
    get: RefCell<Option<Request>>,
    posts: RefCell<Vec<Request>>,
}

impl PollingTransport {
    /// A transport whose responses over `max_body` bytes fail; events go to `handler`,
    /// always from a later turn of the event loop. Like a WebSocket's handler, it must
    /// not hold the transport through a strong reference.
    pub fn new(
        settings: Rc<HttpSettings>,
        max_body: usize,
        handler: impl FnMut(PollEvent) + 'static,
    ) -> Self {
        Self {
            shared: Rc::new(Shared {
                settings,
                max_body,
                handler: RefCell::new(Box::new(handler)),
                get: RefCell::new(None),
                posts: RefCell::new(Vec::new()),
            }),
        }
    }

    /// Sends a GET (`body`: `None`) or a POST to `url`. `Err` when the browser refuses
    /// it at once (a malformed URL or header, say): nothing is reported for it then.
    pub fn send(&self, url: &str, body: Option<&str>) -> Result<(), Refused> {
        let post = body.is_some();
        let weak = Rc::downgrade(&self.shared);
        let on_end = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            if let Some(shared) = weak.upgrade() {
                shared.finished(event, post);
            }
        });
        let xhr = start(url, body, &self.shared.settings, &on_end).ok_or(Refused)?;
        let request = Request {
            xhr,
            _on_end: on_end,
        };
        if post {
            self.shared.posts.borrow_mut().push(request);
        } else {
            *self.shared.get.borrow_mut() = Some(request);
        }
        Ok(())
    }
}

/// The browser refused to send a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

/// Opens and sends one XHR, `on_end` listening for its end; `None` if the browser
/// refuses (a malformed URL or header, say).
fn start(
    url: &str,
    body: Option<&str>,
    settings: &HttpSettings,
    on_end: &Closure<dyn FnMut(Event)>,
) -> Option<XmlHttpRequest> {
    let xhr = XmlHttpRequest::new().ok()?;
    let method = if body.is_some() { "POST" } else { "GET" };
    xhr.open_with_async(method, url, true).ok()?;
    for (name, value) in &settings.headers {
        xhr.set_request_header(name, value).ok()?;
    }
    xhr.set_with_credentials(settings.with_credentials);
    xhr.set_timeout(settings.timeout);
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    xhr.send_with_opt_str(body).ok()?;
    Some(xhr)
}

impl Shared {
    /// A request ended (loaded, failed, timed out): it is forgotten, and its outcome
    /// reported.
    fn finished(&self, event: Event, post: bool) {
        let Some(xhr) = event
            .target()
            .and_then(|target| target.dyn_into::<XmlHttpRequest>().ok())
        else {
            return;
        };
        // The request is dropped after the report: the running closure is its own.
        let request = if post {
            let mut posts = self.posts.borrow_mut();
            let index = posts.iter().position(|request| request.xhr == xhr);
            index.map(|index| posts.swap_remove(index))
        } else {
            self.get.borrow_mut().take()
        };
        let ok = xhr.status().is_ok_and(|status| status == 200);
        let outcome = match (ok, post) {
            (true, true) => PollEvent::Posted,
            (true, false) => self.body_of(&xhr),
            (false, _) => PollEvent::Failed { post },
        };
        if let Ok(mut handler) = self.handler.try_borrow_mut() {
            handler(outcome);
        }
        drop(request);
    }

    fn body_of(&self, xhr: &XmlHttpRequest) -> PollEvent {
        let failed = PollEvent::Failed { post: false };
        let Some(js) = xhr
            .response()
            .ok()
            .and_then(|body| body.dyn_into::<JsString>().ok())
        else {
            return failed;
        };
        // A string's UTF-8 form has at least as many bytes as it has UTF-16 units; the
        // core checks the exact size of what is let through.
        if js.length() as usize > self.max_body {
            return failed;
        }
        match js.as_string() {
            Some(text) => PollEvent::Polled(text),
            None => failed,
        }
    }
}

impl Drop for PollingTransport {
    fn drop(&mut self) {
        if let Some(get) = self.shared.get.borrow_mut().take() {
            get.xhr.set_onloadend(None);
            // Aborting fails only for a request already done.
            let _ = get.xhr.abort();
        }
        for post in self.shared.posts.borrow_mut().drain(..) {
            post.xhr.set_onloadend(None);
        }
    }
}
