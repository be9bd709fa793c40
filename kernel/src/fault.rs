//! Faults injected into servers and into the service modules of a monolithic kernel, as the
//! event log and the syscall results carry them.
//!
//! A leaf: the event log ([`crate::event`]) and the syscall interface ([`crate::syscall`])
//! both name these types, so they live here rather than in either, and neither module
//! depends on the other for them. Deciding when a fault strikes is the servers' fault plan's
//! job, not this module's.

use serde::{Deserialize, Serialize};

/// A fault injected into a server or a service module, as the log records it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub enum InjectedFault {
    /// The server dies (a service module takes the kernel down).
    Crash,
    /// The server stops answering: it holds the request and waits for nothing.
    Hang,
    /// The server answers with a garbled reply.
    CorruptReply,
    /// The request is lost before the server handles it.
    DropMessage,
    /// The server holds the request for a while before handling it.
    Delay,
}

impl InjectedFault {
    /// Lowercase words, as scenarios and traces spell it.
    pub fn name(self) -> &'static str {
        match self {
            InjectedFault::Crash => "crash",
            InjectedFault::Hang => "hang",
            InjectedFault::CorruptReply => "corrupt reply",
            InjectedFault::DropMessage => "drop message",
            InjectedFault::Delay => "delay",
        }
    }

    /// True for faults that break the service rather than slow it down: in monolithic mode
    /// these take the kernel down.
    pub fn is_failure(self) -> bool {
        self != InjectedFault::Delay
    }
}

/// A fault that struck service code inside the kernel, and where.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ServiceFault {
    /// What went wrong.
    pub kind: InjectedFault,
    /// The module it struck.
    pub module: ServiceModule,
}

/// The service modules a monolithic kernel links in.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum ServiceModule {
    FileSystem,
    BlockDriver,
    Console,
    Timer,
    Pipe,
    MessageQueue,
    Socket,
}

impl ServiceModule {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            ServiceModule::FileSystem => "file system",
            ServiceModule::BlockDriver => "block driver",
            ServiceModule::Console => "console driver",
            ServiceModule::Timer => "timer driver",
            ServiceModule::Pipe => "pipe",
            ServiceModule::MessageQueue => "message queue",
            ServiceModule::Socket => "socket",
        }
    }
}
