//! Monolithic mode's message-queue module: [`MessageQueues`] called from the client stub
//! inside the kernel. What the server does with messages (answer a waiting call later, signal
//! a registered notification) the kernel does here with the call's work: the caller waits in
//! the kernel on a channel, the channels the call woke are made ready, and a registration
//! that fires has the kernel signal the capability the registering process named.

use crate::fault::is_cut_short;
use crate::monolithic::InKernelServices;
use crate::mqueue::Outcome;
use crate::service::Service;
use mksim_kernel::ProcessId;
use mksim_kernel::Slot;
use mksim_kernel::syscall::{ServiceModule, ServiceSignal, ServiceWork, WaitChannel};
use mksim_userland::client::MqOutcome;
use mksim_userland::protocol::{MqReply, MqRequest, ServiceError, encode};

/// Runs `request` for `client` (the process `caller`) at `now`; `resumed` when it tries again
/// a request that waited, which faults do not strike again (the server, too, counts a request
/// once however often it tries it).
pub(crate) fn call(
    services: &InKernelServices,
    caller: ProcessId,
    client: u64,
    request: MqRequest,
    now: u64,
    resumed: bool,
) -> (MqOutcome, ServiceWork) {
    // The syscall handler calls the message-queue module.
    let mut work = ServiceWork { function_calls: 2, ..ServiceWork::default() };
    let Some(queues) = &services.mq else {
        return (MqOutcome::Done(MqReply::Error(ServiceError::NotFound)), work);
    };
    if !resumed {
        services.strike(Service::MessageQueue, ServiceModule::MessageQueue, now, &mut work);
    }
    if is_cut_short(&work) {
        return (MqOutcome::Done(MqReply::Error(ServiceError::Io)), work);
    }
    services.mq_callers.borrow_mut().insert(client, caller);
    let request_bytes = encode(&request).len() as u64;
    let handled = queues.borrow_mut().handle(client, request);
    let channel = |id: u32| WaitChannel { module: ServiceModule::MessageQueue, id };
    work.wake = handled.wake.map(|woken| woken.map(channel));
    work.signal = handled.fired.and_then(|fired| {
        let process = *services.mq_callers.borrow().get(&fired.client)?;
        Some(ServiceSignal { process, notification: Slot(fired.notification), bits: fired.bits })
    });
    let outcome = match handled.outcome {
        Outcome::Done(reply) => {
            work.bytes_copied = request_bytes + encode(&reply).len() as u64;
            MqOutcome::Done(reply)
        }
        Outcome::Wait(id) => {
            work.bytes_copied = request_bytes;
            MqOutcome::Wait(channel(id))
        }
    };
    (outcome, work)
}
