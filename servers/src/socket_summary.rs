//! What the sockets hold, as the event log keeps it after each request that changed it: each
//! listener's path and backlog, each connection's state and the bytes buffered toward each
//! end (see `mksim_userland::service_state`).

use super::{Connection, Sockets};
use mksim_userland::service_state::{
    ConnectionPhase, ConnectionSummary, LISTED_MAX, ListenerSummary, ServiceSummary, SocketsSummary, cut, listed,
};

fn phase(connection: &Connection) -> ConnectionPhase {
    match connection.closed {
        _ if connection.reset => ConnectionPhase::Reset,
        _ if connection.pending_at.is_some() => ConnectionPhase::Pending,
        [true, _] => ConnectionPhase::PeerClosed { end: 0 },
        [false, true] => ConnectionPhase::PeerClosed { end: 1 },
        [false, false] => ConnectionPhase::Connected,
    }
}

impl Sockets {
    /// The listeners, then the connections, by number: at most
    /// [`mksim_userland::service_state::LISTED_MAX`] of each.
    pub fn summary(&self) -> ServiceSummary {
        let (listeners, more_listeners) = listed(self.listeners.values(), |listener| ListenerSummary {
            path: cut(&listener.path),
            pending: u32::try_from(listener.pending.len()).unwrap_or(u32::MAX),
            backlog: listener.backlog,
        });
        let (connections, more_connections) = listed(self.connections.iter(), |(&id, connection)| {
            let buffered = connection.inbound.each_ref().map(|bytes| u32::try_from(bytes.len()).unwrap_or(u32::MAX));
            ConnectionSummary { id, phase: phase(connection), buffered }
        });
        debug_assert!(listeners.len() <= LISTED_MAX && connections.len() <= LISTED_MAX);
        ServiceSummary::Sockets(SocketsSummary {
            listeners,
            connections,
            more: more_listeners.saturating_add(more_connections),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::socket::{SocketConfig, Sockets};
    use mksim_userland::service_state::{ConnectionPhase, ConnectionSummary, ListenerSummary, ServiceSummary};
    use mksim_userland::socket_protocol::SockRequest;

    fn sockets(sockets: &Sockets) -> mksim_userland::service_state::SocketsSummary {
        match sockets.summary() {
            ServiceSummary::Sockets(summary) => summary,
            other => panic!("a socket summary, not {other:?}"),
        }
    }

    #[test]
    fn the_summary_follows_a_connection_from_pending_to_closed() {
        let mut all = Sockets::new(SocketConfig::default());
        all.handle(1, SockRequest::Listen { path: "/echo".into(), backlog: 4 });
        all.handle(2, SockRequest::Connect { path: "/echo".into() });
        let summary = sockets(&all);
        assert_eq!(summary.listeners, [ListenerSummary { path: "/echo".into(), pending: 1, backlog: 4 }]);
        assert_eq!(summary.connections[0].phase, ConnectionPhase::Pending);
        all.handle(1, SockRequest::Accept { fd: 3, nonblocking: true });
        all.handle(2, SockRequest::Send { fd: 3, data: b"hello".to_vec(), nonblocking: true });
        let connection = sockets(&all).connections[0].clone();
        assert_eq!(connection, ConnectionSummary { phase: ConnectionPhase::Connected, buffered: [0, 5], ..connection });
        all.handle(2, SockRequest::Close { fd: 3 });
        assert_eq!(sockets(&all).connections[0].phase, ConnectionPhase::PeerClosed { end: 0 });
        assert_eq!(sockets(&all).listeners[0].pending, 0);
    }
}
