//! What the pipe, message-queue and socket services hold, as they report it to the event log
//! after a request changed it (see `mksim_kernel::service_state`), and the words for it.
//!
//! Each service builds its summary from its own state and encodes it like a protocol message;
//! views decode it to show the state at any step: a pipe's fill and its open ends, a queue's
//! messages by priority, a socket's connection state and buffered bytes. Summaries are bounded
//! (at most [`LISTED_MAX`] items of each kind, the rest counted), so a log stays proportional
//! to its requests however many pipes a program opens, and texts are cut to
//! [`HEAD_CHARS_MAX`] characters. Nothing here is escaped: views escape what they show.

use crate::protocol::decode;
use mksim_kernel::fault::ServiceModule;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Items of each kind a summary lists; the others are only counted.
pub const LISTED_MAX: usize = 8;

/// Characters of a message or a name a summary keeps.
pub const HEAD_CHARS_MAX: usize = 24;

/// One pipe: its fill and its open ends.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PipeSummary {
    /// Its number.
    pub id: u32,
    /// Bytes written and not yet read.
    pub buffered: u32,
    /// Bytes it holds at most.
    pub capacity: u32,
    /// Open references to its read end (an end given under a name and not yet taken counts).
    pub readers: u32,
    /// Open references to its write end.
    pub writers: u32,
}

/// Every pipe, as many as a summary lists.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct PipesSummary {
    /// The first pipes by number.
    pub pipes: Vec<PipeSummary>,
    /// Pipes not listed.
    pub more: u32,
}

/// Messages of one priority in a queue.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PriorityMessages {
    /// The priority.
    pub priority: u32,
    /// How many messages have it.
    pub count: u32,
    /// The oldest of them (the next to be received at this priority), cut short.
    pub head: String,
}

/// One message queue.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct QueueSummary {
    /// Its name, cut short; `None` once unlinked (it lives while descriptors are open).
    pub name: Option<String>,
    /// Messages it holds at most.
    pub capacity: u32,
    /// Messages by priority, highest first.
    pub priorities: Vec<PriorityMessages>,
    /// Descriptors open on it.
    pub opened: u32,
}

impl QueueSummary {
    /// Messages it holds.
    pub fn length(&self) -> u32 {
        self.priorities.iter().map(|level| level.count).sum()
    }
}

/// Every message queue, as many as a summary lists.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct QueuesSummary {
    /// The first queues by number.
    pub queues: Vec<QueueSummary>,
    /// Queues not listed.
    pub more: u32,
}

/// A listening socket.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ListenerSummary {
    /// The path it is bound to, cut short.
    pub path: String,
    /// Connections waiting to be accepted.
    pub pending: u32,
    /// Connections it may hold pending.
    pub backlog: u32,
}

/// Where a connection stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ConnectionPhase {
    /// Connected, not yet accepted by its listener.
    Pending,
    /// Both ends open.
    Connected,
    /// One end closed by its holder: the other reads what is left, then end of file.
    PeerClosed {
        /// The end that closed: 0 the connector's, 1 the accepter's.
        end: u8,
    },
    /// Its listener closed before accepting it.
    Reset,
}

/// A connection: its state and the bytes buffered toward each end.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ConnectionSummary {
    /// Its number.
    pub id: u32,
    /// Where it stands.
    pub phase: ConnectionPhase,
    /// Bytes waiting to be received at the connector's end (0) and the accepter's (1).
    pub buffered: [u32; 2],
}

/// Every socket, as many as a summary lists.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
pub struct SocketsSummary {
    /// The first listeners by number.
    pub listeners: Vec<ListenerSummary>,
    /// The first connections by number.
    pub connections: Vec<ConnectionSummary>,
    /// Listeners and connections not listed.
    pub more: u32,
}

/// A service's summary, as the log keeps it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub enum ServiceSummary {
    /// The pipe service's.
    Pipes(PipesSummary),
    /// The message-queue service's.
    Queues(QueuesSummary),
    /// The socket service's.
    Sockets(SocketsSummary),
}

impl ServiceSummary {
    /// The kernel module that stands for this service in monolithic mode, and names it in the log.
    pub fn module(&self) -> ServiceModule {
        match self {
            ServiceSummary::Pipes(_) => ServiceModule::Pipe,
            ServiceSummary::Queues(_) => ServiceModule::MessageQueue,
            ServiceSummary::Sockets(_) => ServiceModule::Socket,
        }
    }

    /// Encoded for the log.
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("summaries always encode")
    }

    /// Leaves this summary in the log of `sys`'s run (a free marker; see `Sys::service_state`).
    pub fn record(&self, sys: &mksim_kernel::Sys) {
        sys.service_state(self.module(), self.encode());
    }

    /// Leaves this summary in the log when `sys`'s process is a restarted server (a later
    /// incarnation): its state was lost with the one before, and views must not go on showing
    /// that. A server's first incarnation reports nothing until a request changes its state,
    /// as monolithic mode, whose modules never restart, reports nothing before its first call.
    pub fn record_if_restarted(&self, sys: &mksim_kernel::Sys) {
        if sys.process().generation > 0 {
            self.record(sys);
        }
    }

    /// Decoded from the log; `None` when the bytes are not a summary of `module`'s service.
    pub fn decode(module: ServiceModule, data: &[u8]) -> Option<ServiceSummary> {
        decode::<ServiceSummary>(data).filter(|summary| summary.module() == module)
    }
}

/// `text` cut to [`HEAD_CHARS_MAX`] characters, ending in `…` when something was cut.
pub fn cut(text: &str) -> String {
    if text.chars().count() <= HEAD_CHARS_MAX {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(HEAD_CHARS_MAX - 1).collect();
    cut.push('…');
    cut
}

/// The first [`LISTED_MAX`] items of `items`, and how many were left out.
pub fn listed<T, U>(items: impl ExactSizeIterator<Item = T>, summary: impl FnMut(T) -> U) -> (Vec<U>, u32) {
    let total = items.len();
    let listed: Vec<U> = items.take(LISTED_MAX).map(summary).collect();
    let more = u32::try_from(total - listed.len()).unwrap_or(u32::MAX);
    (listed, more)
}

fn plural(count: u32, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

impl fmt::Display for PipeSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (readers, writers) = (plural(self.readers, "reader", "readers"), plural(self.writers, "writer", "writers"));
        write!(f, "pipe #{} {}/{} B, {readers}, {writers}", self.id, self.buffered, self.capacity)
    }
}

impl fmt::Display for QueueSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "queue {name:?}")?,
            None => write!(f, "unlinked queue")?,
        }
        write!(f, " {}/{}", self.length(), self.capacity)?;
        let levels: Vec<String> =
            self.priorities.iter().map(|level| format!("{}×p{}", level.count, level.priority)).collect();
        if !levels.is_empty() {
            write!(f, " ({})", levels.join(" "))?;
        }
        write!(f, ", {} open", self.opened)
    }
}

impl fmt::Display for ListenerSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "listening on {:?}, backlog {}/{}", self.path, self.pending, self.backlog)
    }
}

impl fmt::Display for ConnectionPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionPhase::Pending => write!(f, "waiting to be accepted"),
            ConnectionPhase::Connected => write!(f, "connected"),
            ConnectionPhase::PeerClosed { end: 0 } => write!(f, "connector closed"),
            ConnectionPhase::PeerClosed { .. } => write!(f, "accepter closed"),
            ConnectionPhase::Reset => write!(f, "reset"),
        }
    }
}

impl fmt::Display for ConnectionSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [to_connector, to_accepter] = self.buffered;
        write!(
            f,
            "connection #{} {}, {to_accepter} B to the accepter, {to_connector} B to the connector",
            self.id, self.phase
        )
    }
}

fn list(items: Vec<String>, more: u32, none: &str) -> String {
    let mut text = if items.is_empty() && more == 0 { none.to_owned() } else { items.join("; ") };
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}

impl fmt::Display for ServiceSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceSummary::Pipes(pipes) => {
                let items = pipes.pipes.iter().map(ToString::to_string).collect();
                write!(f, "pipes: {}", list(items, pipes.more, "none"))
            }
            ServiceSummary::Queues(queues) => {
                let items = queues.queues.iter().map(ToString::to_string).collect();
                write!(f, "queues: {}", list(items, queues.more, "none"))
            }
            ServiceSummary::Sockets(sockets) => {
                let listeners = sockets.listeners.iter().map(ToString::to_string);
                let items = listeners.chain(sockets.connections.iter().map(ToString::to_string)).collect();
                write!(f, "sockets: {}", list(items, sockets.more, "none"))
            }
        }
    }
}

/// A summary in words, for the trace: `pipes: pipe #0 9/4096 B, 1 reader, 1 writer`.
pub fn describe(module: ServiceModule, data: &[u8]) -> Option<String> {
    Some(ServiceSummary::decode(module, data)?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_reads_back_as_it_was_and_in_words() {
        let summary = ServiceSummary::Queues(QueuesSummary {
            queues: vec![QueueSummary {
                name: Some("/jobs".into()),
                capacity: 8,
                priorities: vec![
                    PriorityMessages { priority: 5, count: 2, head: "urgent".into() },
                    PriorityMessages { priority: 1, count: 1, head: "later".into() },
                ],
                opened: 2,
            }],
            more: 3,
        });
        let data = summary.encode();
        assert_eq!(ServiceSummary::decode(ServiceModule::MessageQueue, &data), Some(summary));
        assert_eq!(ServiceSummary::decode(ServiceModule::Pipe, &data), None);
        assert_eq!(
            describe(ServiceModule::MessageQueue, &data).unwrap(),
            "queues: queue \"/jobs\" 3/8 (2×p5 1×p1), 2 open; and 3 more"
        );
    }

    #[test]
    fn long_texts_and_long_lists_are_cut() {
        assert_eq!(cut("short"), "short");
        let long = cut(&"x".repeat(100));
        assert_eq!(long.chars().count(), HEAD_CHARS_MAX);
        assert!(long.ends_with('…'));
        let (items, more) = listed(0..20u32, |n| n * 2);
        assert_eq!(items, [0, 2, 4, 6, 8, 10, 12, 14]);
        assert_eq!(more, 12);
    }

    #[test]
    fn every_connection_phase_has_words() {
        let connection = ConnectionSummary { id: 4, phase: ConnectionPhase::PeerClosed { end: 1 }, buffered: [0, 7] };
        assert_eq!(connection.to_string(), "connection #4 accepter closed, 7 B to the accepter, 0 B to the connector");
        let pipes = ServiceSummary::Pipes(PipesSummary::default());
        assert_eq!(pipes.to_string(), "pipes: none");
    }
}
