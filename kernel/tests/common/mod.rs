//! Small helpers shared by the kernel's integration tests: building a kernel,
//! recording what programs observe, running, and looking through the log.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use mksim_kernel::event::{CapabilityChange, DropReason};
use mksim_kernel::*;
use std::cell::RefCell;
use std::rc::Rc;

/// A priority from its level.
pub fn priority(level: u8) -> Priority {
    Priority::new(level).expect("test priorities are in range")
}

/// A kernel with the default configuration.
pub fn kernel() -> Kernel {
    Kernel::new(KernelConfig::default())
}

/// A kernel whose configuration `adjust` changed first.
pub fn kernel_with(adjust: impl FnOnce(&mut KernelConfig)) -> Kernel {
    let mut config = KernelConfig::default();
    adjust(&mut config);
    Kernel::new(config)
}

/// Creates a program (must finish) at `level`, not started yet.
pub fn program(kernel: &mut Kernel, name: &str, level: u8) -> ProcessId {
    kernel.create_process(ProcessSpec::program(name, priority(level)))
}

/// Creates a server (may wait forever) at `level`, not started yet.
pub fn server(kernel: &mut Kernel, name: &str, level: u8) -> ProcessId {
    kernel.create_process(ProcessSpec::server(name, priority(level)))
}

/// A program body that only sleeps for a very long time, so the objects it owns stay alive.
pub async fn stay_alive(sys: Sys) -> ProgramResult {
    sys.sleep(u64::MAX / 4).await?;
    Ok(0)
}

/// A shared list that programs push what they observe into, read after the run.
pub struct Record<T>(Rc<RefCell<Vec<T>>>);

impl<T> Clone for Record<T> {
    fn clone(&self) -> Self {
        Record(Rc::clone(&self.0))
    }
}

impl<T> Default for Record<T> {
    fn default() -> Self {
        Record(Rc::default())
    }
}

impl<T: Clone> Record<T> {
    /// An empty record.
    pub fn new() -> Self {
        Record::default()
    }

    /// Appends one observation.
    pub fn push(&self, value: T) {
        self.0.borrow_mut().push(value);
    }

    /// Everything recorded so far, oldest first.
    pub fn get(&self) -> Vec<T> {
        self.0.borrow().clone()
    }
}

/// A message with a label and data and no capabilities.
pub fn message(label: u32, data: &[u8]) -> Message {
    Message::new(label, data.to_vec())
}

/// Runs the kernel and checks that every program finished and none was faulted.
pub fn run_clean(kernel: &mut Kernel) {
    let outcome = kernel.run().clone();
    assert!(outcome.is_completed(), "run ended with {outcome:?}\n{}", kernel.log().render_text());
    let faulted: Vec<_> = kernel
        .processes()
        .iter()
        .filter(|process| matches!(process.state(), ProcessState::Faulted { .. }))
        .map(|process| format!("{} {:?} {:?}", process.name(), process.state(), process.fault_detail()))
        .collect();
    assert!(faulted.is_empty(), "faulted: {faulted:?}\n{}", kernel.log().render_text());
    assert_no_message_has_two_fates(kernel);
}

/// Checks that no message was both delivered and dropped, or delivered or dropped twice.
pub fn assert_no_message_has_two_fates(kernel: &Kernel) {
    let mut fates = vec![0u32; kernel.log().messages().len()];
    for event in kernel.log().events() {
        if let EventKind::MessageDelivered { message } | EventKind::MessageDropped { message, .. } = event.kind {
            fates[message.0 as usize] += 1;
        }
    }
    let twice: Vec<_> = fates.iter().enumerate().filter(|(_, count)| **count > 1).map(|(id, _)| id).collect();
    assert!(twice.is_empty(), "messages with more than one fate: {twice:?}\n{}", kernel.log().render_text());
}

/// A server and a client sharing one endpoint the server owns.
pub struct Link {
    /// The server, owner of the endpoint.
    pub server: ProcessId,
    /// The client.
    pub client: ProcessId,
    /// The endpoint.
    pub endpoint: ObjectId,
    /// The server's slot: every right on the endpoint.
    pub serve: Slot,
    /// The client's slot, derived from the server's.
    pub call: Slot,
}

/// Creates server `server` at `server_level` owning an endpoint, and program
/// `client` at `client_level` holding a capability to it with `rights` and `badge`.
pub fn link(kernel: &mut Kernel, server_level: u8, client_level: u8, rights: Rights, badge: Badge) -> Link {
    let server = server(kernel, "server", server_level);
    let client = program(kernel, "client", client_level);
    let endpoint = kernel.create_endpoint(server);
    let serve = kernel.grant(server, endpoint, Rights::all(), Badge::NONE).unwrap();
    let call = kernel.grant_derived(client, server, serve, rights, badge).unwrap();
    Link { server, client, endpoint, serve, call }
}

/// The state of a process.
pub fn state(kernel: &Kernel, id: ProcessId) -> ProcessState {
    kernel.process_by_id(id).expect("process exists").state()
}

/// The counters of a process.
pub fn counters(kernel: &Kernel, id: ProcessId) -> Counters {
    *kernel.process_by_id(id).expect("process exists").counters()
}

/// Every event kind of the run, in order.
pub fn event_kinds(kernel: &Kernel) -> Vec<EventKind> {
    kernel.log().events().iter().map(|event| event.kind).collect()
}

/// Every event of the run concerning `id`, in order.
pub fn events_of(kernel: &Kernel, id: ProcessId) -> Vec<EventKind> {
    kernel.log().events().iter().filter(|event| event.process == id).map(|event| event.kind).collect()
}

/// Every capability change logged for `id`, in order.
pub fn capability_changes(kernel: &Kernel, id: ProcessId) -> Vec<CapabilityChange> {
    let log = kernel.log();
    log.events().iter().filter(|event| event.process == id).filter_map(|event| log.capability_change(event)).collect()
}

/// Every signal and interrupt logged: who sent it, into which notification, and the bits.
pub fn signals(kernel: &Kernel) -> Vec<(ProcessId, ObjectId, u64)> {
    let log = kernel.log();
    log.events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::Signalled { notification, bits } | EventKind::Interrupt { notification, bits } => {
                Some((event.process, notification, log.bits(bits)))
            }
            _ => None,
        })
        .collect()
}

/// How many events match `predicate`.
pub fn count_events(kernel: &Kernel, predicate: impl Fn(&EventKind) -> bool) -> usize {
    kernel.log().events().iter().filter(|event| predicate(&event.kind)).count()
}

/// The first event that matches `predicate`.
pub fn find_event(kernel: &Kernel, predicate: impl Fn(&EventKind) -> bool) -> Option<Event> {
    kernel.log().events().iter().find(|event| predicate(&event.kind)).copied()
}

/// Every dropped message: the process that sent it, its label and why it was dropped.
pub fn drops(kernel: &Kernel) -> Vec<(ProcessId, u32, DropReason)> {
    let log = kernel.log();
    log.events()
        .iter()
        .filter_map(|event| match event.kind {
            EventKind::MessageDropped { message, reason } => Some((event.process, log.message(message).label, reason)),
            _ => None,
        })
        .collect()
}

/// Labels of the messages delivered to `id`, in order.
pub fn delivered_labels(kernel: &Kernel, id: ProcessId) -> Vec<u32> {
    let log = kernel.log();
    events_of(kernel, id)
        .into_iter()
        .filter_map(|kind| match kind {
            EventKind::MessageDelivered { message } => Some(log.message(message).label),
            _ => None,
        })
        .collect()
}

/// The capabilities `id` holds: slot, rights, badge and kind of object (`None` once it died).
pub fn held(kernel: &Kernel, id: ProcessId) -> Vec<(Slot, Rights, Badge, Option<ObjectKind>)> {
    kernel
        .capabilities(id)
        .into_iter()
        .map(|(slot, capability, kind)| (slot, capability.rights, capability.badge, kind))
        .collect()
}

/// The capability in one slot of `id`, if any.
pub fn capability_in(kernel: &Kernel, id: ProcessId, slot: Slot) -> Option<Capability> {
    kernel.capabilities(id).into_iter().find(|(held, _, _)| *held == slot).map(|(_, capability, _)| capability)
}

/// The message a receive returned, failing the program with a clear reason when it was a notification.
pub fn expect_message(incoming: Incoming) -> Received {
    match incoming {
        Incoming::Message(received) => received,
        Incoming::Notification(bits) => panic!("expected a message, got notification bits {bits:#x}"),
    }
}
