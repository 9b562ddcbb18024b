//! [`Manager`]: one connection to a Socket.IO server, shared by the sockets of its
//! namespaces (socket.io-client's `Manager`).
//!
//! Owns the driver that runs the core in the browser, and the routing of the core's
//! notices to the sockets, one at a time. It must not hold connection logic (the core
//! does) nor a socket's state (the socket does).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use super::error::ClientError;
use super::event::Event;
use super::options::{Options, SocketOptions};
use super::socket::{Socket, SocketShared};
use super::url::targets;
use crate::core::{Manager as Core, ManagerEvent, Notice, SocketKey, TransportKind};
use crate::driver::{random_seed, Driver, Endpoint};

/// One connection (one Engine.IO session at a time, reconnected as needed) to a
/// server; a cheap handle, cloned freely. Its sockets keep it open: it closes when the
/// last handle to it or to one of its sockets is dropped.
#[derive(Clone)]
pub struct Manager {
    shared: Rc<ManagerShared>,
}

struct ManagerShared {
    driver: Driver,
    router: Rc<Router>,
    /// The servers to try, in order, as given and as Engine.IO endpoints: one, or a
    /// failover list.
    servers: Vec<(String, String)>,
    /// The server in use, or tried next.
    at: Cell<usize>,
}

/// Hands the core's notices to the sockets they are for.
#[derive(Default)]
struct Router {
    sockets: RefCell<Vec<(SocketKey, Weak<SocketShared>)>>,
    waiting: RefCell<VecDeque<Notice>>,
    routing: Cell<bool>,
}

impl Manager {
    /// A connection to the server of `url` (its path, the namespace, is not used
    /// here), with every option but `options.socket`. It opens when its first socket
    /// connects.
    pub fn new(url: &str, options: &Options) -> Result<Manager, ClientError> {
        Self::failover(&[url], options)
    }

    /// A connection to the first of `urls` that answers (the same namespace on each):
    /// every failed attempt sends the next one to the next URL, within the normal
    /// backoff, and a working connection stays where it is (the JavaScript API's
    /// `io([a, b])`). [`Manager::uri`] says where it is.
    pub fn failover(urls: &[&str], options: &Options) -> Result<Manager, ClientError> {
        let found = targets(urls, &options.path).map_err(ClientError::Url)?;
        let servers: Vec<(String, String)> = urls
            .iter()
            .zip(found)
            .map(|(url, target)| ((*url).to_owned(), target.engine_url))
            .collect();
        let core = Core::new(options.manager.clone(), random_seed());
        let router = Rc::new(Router::default());
        let endpoint = Endpoint {
            url: servers[0].1.clone(),
            http: Rc::new(options.http.clone()),
            protocols: options.protocols.clone(),
        };
        let shared = Rc::new_cyclic(|weak: &Weak<ManagerShared>| {
            let weak = weak.clone();
            let sink = Rc::clone(&router);
            let driver = Driver::new(core, endpoint, move |notice| {
                if let (Notice::Manager(ManagerEvent::Error(_)), Some(shared)) =
                    (&notice, weak.upgrade())
                {
                    shared.next_server();
                }
                sink.route(notice);
            });
            ManagerShared {
                driver,
                router,
                servers,
                at: Cell::new(0),
            }
        });
        Ok(Manager { shared })
    }

    /// The URL (as given) of the server the connection is on, or tries next.
    pub fn uri(&self) -> &str {
        &self.shared.servers[self.shared.at.get()].0
    }

    /// The socket of `namespace` on this connection, connecting unless
    /// `options.auto_connect` is off; the one already made for it if it is still held
    /// (then `options` are not used).
    pub fn socket(&self, namespace: &str, options: SocketOptions) -> Result<Socket, ClientError> {
        let config = options.config()?;
        let key = self.command(|core, _| core.socket(namespace, config))?;
        if let Some(socket) = self.shared.router.find(key) {
            return Ok(Socket::from_shared(socket));
        }
        let auto_connect = options.auto_connect;
        let socket = Socket::new(self.clone(), key, namespace.to_owned(), options.auth);
        self.shared
            .router
            .sockets
            .borrow_mut()
            .push((key, socket.downgrade().into_weak()));
        if auto_connect {
            socket.reconnect()?;
        }
        Ok(socket)
    }

    /// Drops the transport as a network failure would (socket.io-client's
    /// `socket.io.engine.close()`): the sockets reconnect, and may recover their
    /// sessions.
    pub fn close_transport(&self) -> Result<(), ClientError> {
        self.command(|core, now| core.close_transport(now))
    }

    /// The transport in use, if connected.
    pub fn transport(&self) -> Option<TransportKind> {
        self.inspect(Core::transport).ok().flatten()
    }

    /// Runs `command` on the core, then delivers the events it caused.
    pub(crate) fn command<R>(
        &self,
        command: impl FnOnce(&mut Core, u64) -> R,
    ) -> Result<R, ClientError> {
        let result = self.command_undelivered(command);
        self.shared.driver.deliver();
        result
    }

    /// Runs `command` on the core; its events wait for [`Manager::deliver`], so that
    /// the caller can first take note of the result (an emit's ack id).
    pub(crate) fn command_undelivered<R>(
        &self,
        command: impl FnOnce(&mut Core, u64) -> R,
    ) -> Result<R, ClientError> {
        Ok(self.shared.driver.command(command)?)
    }

    pub(crate) fn deliver(&self) {
        self.shared.driver.deliver();
    }

    pub(crate) fn inspect<R>(&self, read: impl FnOnce(&Core) -> R) -> Result<R, ClientError> {
        Ok(self.shared.driver.inspect(read)?)
    }
}

impl ManagerShared {
    /// An attempt failed: the next one goes to the next server of a failover list.
    fn next_server(&self) {
        if self.servers.len() < 2 {
            return;
        }
        let at = (self.at.get() + 1) % self.servers.len();
        self.at.set(at);
        let url = self.servers[at].1.clone();
        // Refused only from inside the core's own processing, which this is not.
        let _ = self.driver.set_endpoint(|endpoint| endpoint.url = url);
    }
}

impl Router {
    fn find(&self, key: SocketKey) -> Option<Rc<SocketShared>> {
        let mut sockets = self.sockets.borrow_mut();
        // Sockets the app let go of leave their place here.
        sockets.retain(|(_, socket)| socket.strong_count() > 0);
        sockets
            .iter()
            .find(|(socket_key, _)| *socket_key == key)
            .and_then(|(_, socket)| socket.upgrade())
    }

    /// Routes `notice`, or queues it if a notice is being routed: an app's handler runs
    /// one event at a time, and the events its own calls cause come after it returns.
    fn route(&self, notice: Notice) {
        self.waiting.borrow_mut().push_back(notice);
        if self.routing.replace(true) {
            return;
        }
        loop {
            let next = self.waiting.borrow_mut().pop_front();
            match next {
                Some(Notice::Socket(key, event)) => {
                    if let Some(socket) = self.find(key) {
                        socket.handle(event);
                    }
                }
                Some(Notice::Manager(event)) => {
                    let sockets: Vec<_> = self
                        .sockets
                        .borrow()
                        .iter()
                        .filter_map(|(_, socket)| socket.upgrade())
                        .collect();
                    let event = Event::Connection(event);
                    for socket in sockets {
                        socket.publish(&event);
                    }
                }
                None => break,
            }
        }
        self.routing.set(false);
    }
}
