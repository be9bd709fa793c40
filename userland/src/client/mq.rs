//! The message-queue stubs: [`Services::mq`] in both modes.
//!
//! In microkernel mode a request is a call to the `mq` server, which answers a waiting
//! operation when it can go on; a registration for a notification passes a copy of the
//! notification capability with the call. In monolithic mode the stub runs the queues inside
//! the kernel: an operation that must wait blocks the caller in the kernel on the queue's
//! channel, and is run again, from the start, when the channel is woken.

use super::{ClientError, Mode, Services};
use crate::protocol::{MqReply, MqRequest, Request, ServiceError, decode, encode, reply_label};
use mksim_kernel::syscall::{ServiceWork, WaitChannel};
use mksim_kernel::{Message, Rights, Slot, SysError};

/// What the message queues inside the kernel answer a request.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum MqOutcome {
    /// The answer.
    Done(MqReply),
    /// The caller waits on this channel of the message-queue module, then tries again.
    Wait(WaitChannel),
}

impl Services {
    /// Sends a message-queue request and returns the reply; a reply carrying an error becomes
    /// `Err`. `notification` is the capability a [`MqRequest::Notify`] registers.
    ///
    /// After the `mq` server restarts, descriptors opened at the old one are stale: using one
    /// fails with [`ServiceError::StaleHandle`] without a message. Only opening is sent again
    /// after the server died; the others are reported failed ("peer dead").
    ///
    /// # Errors
    /// The server's error, or the kernel's (peer dead when the server died).
    pub async fn mq(&mut self, request: MqRequest, notification: Option<Slot>) -> Result<MqReply, ClientError> {
        let label = request.label();
        let reply = if let Mode::Monolithic(_) = &self.mode {
            self.marked(label, self.mq_in_kernel(request, notification)).await?
        } else {
            self.connect("mq").await?;
            self.marked(label, self.mq_call(&request, notification)).await?
        };
        match reply {
            MqReply::Error(error) => Err(error.into()),
            reply => Ok(reply),
        }
    }

    async fn mq_call(&self, request: &MqRequest, notification: Option<Slot>) -> Result<MqReply, ClientError> {
        let stale = {
            let connections = self.connections.borrow();
            let current = connections.incarnation("mq");
            let opened_at = request.descriptor().and_then(|queue| connections.mq_descriptors.get(&queue));
            opened_at.is_some_and(|&at| at != current)
        };
        if stale {
            return Err(ServiceError::StaleHandle.into());
        }
        let incarnation = self.connections.borrow().incarnation("mq");
        let data = match notification {
            Some(slot) => self.mq_call_passing(request, slot).await?,
            None => self.call_service("mq", request, matches!(request, MqRequest::Open { .. })).await?.to_vec(),
        };
        let reply = decode::<MqReply>(&data).ok_or(ClientError::Service(ServiceError::BadRequest))?;
        let mut connections = self.connections.borrow_mut();
        let current = connections.incarnation("mq").max(incarnation);
        match (request, &reply) {
            (_, MqReply::Descriptor(queue)) => {
                connections.mq_descriptors.insert(*queue, current);
            }
            (MqRequest::Close { queue }, MqReply::Done) => {
                connections.mq_descriptors.remove(queue);
            }
            _ => {}
        }
        Ok(reply)
    }

    /// A call that passes a copy of `notification` (signal right only), sent once.
    async fn mq_call_passing(&self, request: &MqRequest, notification: Slot) -> Result<Vec<u8>, ClientError> {
        let port = self.port("mq").await?;
        let message = Message::new(request.label(), encode(request)).with_copy(notification, Rights::SEND);
        match self.sys.call(port, message).await {
            Ok(answer) if answer.label == reply_label(request.label()) => Ok(answer.data.to_vec()),
            Ok(_) => Err(ServiceError::CorruptReply.into()),
            Err(SysError::PeerDead) => {
                self.disconnect("mq").await;
                Err(SysError::PeerDead.into())
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Runs the request inside the kernel, waiting in the kernel as often as it must.
    async fn mq_in_kernel(&self, request: MqRequest, notification: Option<Slot>) -> Result<MqReply, ClientError> {
        let Mode::Monolithic(services) = &self.mode else { return Err(ServiceError::BadRequest.into()) };
        let request = match (request, notification) {
            (MqRequest::Notify { queue, bits, .. }, Some(slot)) => {
                MqRequest::Notify { queue, notification: slot.0, bits }
            }
            (request, _) => request,
        };
        let mut resumed = false;
        loop {
            let (outcome, work) =
                services.mq(self.sys.process(), self.client, request.clone(), self.sys.now(), resumed);
            self.record_summary(services.as_ref(), mksim_kernel::fault::ServiceModule::MessageQueue);
            match outcome {
                MqOutcome::Done(reply) => {
                    // A registration made keeps the capability it names, as the server keeps its copy.
                    let hold = match (&request, &reply) {
                        (MqRequest::Notify { notification, .. }, MqReply::Done) => Some(Slot(*notification)),
                        _ => None,
                    };
                    let work = ServiceWork { resumed, hold, ..work };
                    self.sys.kernel_service_answered(request.label(), encode(&request), work, encode(&reply)).await?;
                    return Ok(reply);
                }
                MqOutcome::Wait(channel) => {
                    let work = ServiceWork { wait: Some(channel), resumed, ..work };
                    self.sys.kernel_service(request.label(), encode(&request), work).await?;
                    resumed = true;
                }
            }
        }
    }
}
