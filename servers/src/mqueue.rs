//! POSIX message queues: named queues of messages kept by priority, then by age.
//!
//! This is service logic only. The `mq` server runs it behind an endpoint in microkernel
//! mode; monolithic mode calls it inside the kernel. [`MessageQueues::handle`] is synchronous:
//! it answers at once, or says the caller must wait on a channel (a full queue's senders, an
//! empty queue's receivers) and is to be tried again, from the start, when that channel is
//! woken. Every answer also lists the channels its change may have unblocked, and the
//! notification it fires, if any.
//!
//! Queues live by name until unlinked, and after that until their last descriptor closes.
//! Descriptors belong to a client (its badge). Nothing is written anywhere: a restart of the
//! server loses every queue, message, descriptor and registration.

use mksim_userland::protocol::{MQ_PRIORITY_MAX, MqReply, MqRequest, ServiceError};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Limits of the message-queue service.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MqConfig {
    /// Queues that may exist at once (named or unlinked but open).
    pub queues_max: usize,
    /// Messages a queue may hold at most (its capacity is at most this).
    pub capacity_max: u32,
    /// Bytes a message may have at most (a queue's message size is at most this).
    pub message_bytes_max: u32,
    /// Open descriptors per client.
    pub descriptors_max: usize,
    /// Bytes a queue's name may have.
    pub name_bytes_max: usize,
}

impl Default for MqConfig {
    fn default() -> Self {
        MqConfig { queues_max: 64, capacity_max: 256, message_bytes_max: 512, descriptors_max: 16, name_bytes_max: 255 }
    }
}

/// What a caller is told.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Outcome {
    /// The answer.
    Done(MqReply),
    /// The caller waits until this channel is woken, then tries the request again.
    Wait(u32),
}

/// A notification to signal: the one `client` registered for a queue.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Fired {
    /// The queue whose registration it was.
    pub queue: u32,
    /// The client that registered it.
    pub client: u64,
    /// The notification as the client named it when it registered.
    pub notification: u32,
    /// The bits to signal.
    pub bits: u64,
}

/// The result of one request.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Handled {
    /// What the caller is told.
    pub outcome: Outcome,
    /// Channels whose waiters may now go on, to be tried again in the order they waited.
    pub wake: [Option<u32>; 2],
    /// The notification this request fired.
    pub fired: Option<Fired>,
}

impl Handled {
    fn done(reply: MqReply) -> Handled {
        Handled { outcome: Outcome::Done(reply), wake: [None, None], fired: None }
    }

    fn error(error: ServiceError) -> Handled {
        Handled::done(MqReply::Error(error))
    }
}

/// A registration for a queue's notification.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Registration {
    client: u64,
    notification: u32,
    bits: u64,
}

#[derive(Clone, Debug)]
struct Queue {
    capacity: u32,
    message_bytes_max: u32,
    /// Messages by priority, each priority's oldest first.
    messages: BTreeMap<u32, VecDeque<Vec<u8>>>,
    length: u32,
    /// Descriptors open on it, in every client.
    opened: u32,
    /// The clients waiting in a receive, which a notification does not disturb.
    receivers: BTreeSet<u64>,
    registration: Option<Registration>,
}

impl Queue {
    fn take(&mut self) -> Option<(Vec<u8>, u32)> {
        let (&priority, messages) = self.messages.iter_mut().next_back()?;
        let data = messages.pop_front()?;
        if messages.is_empty() {
            self.messages.remove(&priority);
        }
        self.length -= 1;
        Some((data, priority))
    }
}

/// The channel the receivers of queue `id` wait on.
pub fn receivers_channel(id: u32) -> u32 {
    id.wrapping_mul(2)
}

/// The channel the senders of queue `id` wait on.
pub fn senders_channel(id: u32) -> u32 {
    id.wrapping_mul(2) | 1
}

/// What a queue holds, for views and tests.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct QueueView {
    /// Its name, while it has one.
    pub name: Option<String>,
    /// Messages it may hold.
    pub capacity: u32,
    /// Messages by priority, highest first, each priority's oldest first.
    pub messages: Vec<(u32, Vec<Vec<u8>>)>,
    /// Descriptors open on it.
    pub opened: u32,
}

/// Every message queue of the system.
#[derive(Clone, Debug, Default)]
pub struct MessageQueues {
    config: MqConfig,
    queues: BTreeMap<u32, Queue>,
    names: BTreeMap<String, u32>,
    /// Open descriptors by client and descriptor: the queue each stands for.
    descriptors: BTreeMap<(u64, u32), u32>,
    next_id: u32,
}

impl MessageQueues {
    /// No queues yet, with these limits.
    pub fn new(config: MqConfig) -> MessageQueues {
        MessageQueues { config, ..MessageQueues::default() }
    }

    /// Handles `request` from `client` (its badge).
    pub fn handle(&mut self, client: u64, request: MqRequest) -> Handled {
        let result = match request {
            MqRequest::Open { name, capacity, message_bytes_max } => {
                self.open(client, name, capacity, message_bytes_max).map(Handled::done)
            }
            MqRequest::Send { queue, data, priority, nonblocking } => {
                self.send(client, queue, data, priority, nonblocking)
            }
            MqRequest::Receive { queue, nonblocking } => self.receive(client, queue, nonblocking),
            MqRequest::Notify { queue, notification, bits } => {
                self.notify(client, queue, notification, bits).map(Handled::done)
            }
            MqRequest::Unlink { name } => self.unlink(&name).map(Handled::done),
            MqRequest::Close { queue } => self.close(client, queue),
        };
        result.unwrap_or_else(Handled::error)
    }

    /// Puts a message a receive took back at the head of its priority: the receiver died
    /// before it could be given the message, which must not be lost.
    pub fn put_back(&mut self, client: u64, queue: u32, data: Vec<u8>, priority: u32) {
        if let Ok((_, open)) = self.queue(client, queue) {
            open.messages.entry(priority).or_default().push_front(data);
            open.length += 1;
        }
    }

    /// The queues, oldest first.
    pub fn view(&self) -> Vec<QueueView> {
        let name_of = |id: u32| self.names.iter().find(|(_, named)| **named == id).map(|(name, _)| name.clone());
        let views = self.queues.iter().map(|(&id, queue)| QueueView {
            name: name_of(id),
            capacity: queue.capacity,
            messages: queue
                .messages
                .iter()
                .rev()
                .map(|(&priority, list)| (priority, list.iter().cloned().collect()))
                .collect(),
            opened: queue.opened,
        });
        views.collect()
    }

    fn open(
        &mut self,
        client: u64,
        name: String,
        capacity: u32,
        message_bytes_max: u32,
    ) -> Result<MqReply, ServiceError> {
        if name.is_empty() || name.len() > self.config.name_bytes_max {
            return Err(if name.is_empty() { ServiceError::InvalidArgument } else { ServiceError::NameTooLong });
        }
        if self.descriptors.range((client, 0)..=(client, u32::MAX)).count() >= self.config.descriptors_max {
            return Err(ServiceError::TooManyOpen);
        }
        let id = match self.names.get(&name) {
            Some(&id) => id,
            None => self.create(name, capacity, message_bytes_max)?,
        };
        let descriptor = (1..).find(|fd| !self.descriptors.contains_key(&(client, *fd))).unwrap_or(u32::MAX);
        self.descriptors.insert((client, descriptor), id);
        if let Some(queue) = self.queues.get_mut(&id) {
            queue.opened += 1;
        }
        Ok(MqReply::Descriptor(descriptor))
    }

    fn create(&mut self, name: String, capacity: u32, message_bytes_max: u32) -> Result<u32, ServiceError> {
        let valid = (1..=self.config.capacity_max).contains(&capacity)
            && (1..=self.config.message_bytes_max).contains(&message_bytes_max);
        if !valid {
            return Err(ServiceError::InvalidArgument);
        }
        if self.queues.len() >= self.config.queues_max {
            return Err(ServiceError::NoSpace);
        }
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let queue = Queue {
            capacity,
            message_bytes_max,
            messages: BTreeMap::new(),
            length: 0,
            opened: 0,
            receivers: BTreeSet::new(),
            registration: None,
        };
        self.queues.insert(id, queue);
        self.names.insert(name, id);
        Ok(id)
    }

    fn queue(&mut self, client: u64, queue: u32) -> Result<(u32, &mut Queue), ServiceError> {
        let id = *self.descriptors.get(&(client, queue)).ok_or(ServiceError::BadDescriptor)?;
        let open = self.queues.get_mut(&id).ok_or(ServiceError::BadDescriptor)?;
        Ok((id, open))
    }

    fn send(
        &mut self,
        client: u64,
        queue: u32,
        data: Vec<u8>,
        priority: u32,
        nonblocking: bool,
    ) -> Result<Handled, ServiceError> {
        let (id, open) = self.queue(client, queue)?;
        if priority > MQ_PRIORITY_MAX {
            return Err(ServiceError::InvalidArgument);
        }
        if data.len() > open.message_bytes_max as usize {
            return Err(ServiceError::MessageTooLong);
        }
        if open.length >= open.capacity {
            if nonblocking {
                return Err(ServiceError::WouldBlock);
            }
            return Ok(Handled { outcome: Outcome::Wait(senders_channel(id)), wake: [None, None], fired: None });
        }
        let was_empty = open.length == 0;
        open.messages.entry(priority).or_default().push_back(data);
        open.length += 1;
        // POSIX: the notification fires when a message arrives in an empty queue and no
        // receiver is waiting for it; the registration is then gone.
        let fired = match was_empty && open.receivers.is_empty() {
            true => open.registration.take().map(|registration| Fired {
                queue: id,
                client: registration.client,
                notification: registration.notification,
                bits: registration.bits,
            }),
            false => None,
        };
        let wake = [Some(receivers_channel(id)), None];
        Ok(Handled { outcome: Outcome::Done(MqReply::Done), wake, fired })
    }

    fn receive(&mut self, client: u64, queue: u32, nonblocking: bool) -> Result<Handled, ServiceError> {
        let (id, open) = self.queue(client, queue)?;
        match open.take() {
            Some((data, priority)) => {
                open.receivers.remove(&client);
                let wake = [Some(senders_channel(id)), None];
                Ok(Handled { outcome: Outcome::Done(MqReply::Message { data, priority }), wake, fired: None })
            }
            None if nonblocking => Err(ServiceError::WouldBlock),
            None => {
                open.receivers.insert(client);
                Ok(Handled { outcome: Outcome::Wait(receivers_channel(id)), wake: [None, None], fired: None })
            }
        }
    }

    fn notify(&mut self, client: u64, queue: u32, notification: u32, bits: u64) -> Result<MqReply, ServiceError> {
        let (_, open) = self.queue(client, queue)?;
        if open.registration.is_some() {
            return Err(ServiceError::Busy);
        }
        open.registration = Some(Registration { client, notification, bits });
        Ok(MqReply::Done)
    }

    fn unlink(&mut self, name: &str) -> Result<MqReply, ServiceError> {
        let id = self.names.remove(name).ok_or(ServiceError::NotFound)?;
        if self.queues.get(&id).is_some_and(|queue| queue.opened == 0) {
            self.queues.remove(&id);
        }
        Ok(MqReply::Done)
    }

    fn close(&mut self, client: u64, queue: u32) -> Result<Handled, ServiceError> {
        let id = self.descriptors.remove(&(client, queue)).ok_or(ServiceError::BadDescriptor)?;
        let Some(open) = self.queues.get_mut(&id) else { return Ok(Handled::done(MqReply::Done)) };
        open.opened = open.opened.saturating_sub(1);
        // POSIX: closing a descriptor removes the registration the process made through it.
        if open.registration.is_some_and(|registration| registration.client == client) {
            let still_open = self.descriptors.iter().any(|(&(owner, _), &other)| owner == client && other == id);
            if !still_open {
                open.registration = None;
            }
        }
        let named = self.names.values().any(|&named| named == id);
        if open.opened == 0 && !named {
            self.queues.remove(&id);
        }
        Ok(Handled::done(MqReply::Done))
    }

    /// Closes every descriptor `client` holds, as exit does (its registrations go with them),
    /// and forgets that it waits in a receive. Nobody else can go on because of it.
    pub fn client_gone(&mut self, client: u64) {
        for queue in self.queues.values_mut() {
            queue.receivers.remove(&client);
        }
        let fds: Vec<u32> = self.descriptors.range((client, 0)..=(client, u32::MAX)).map(|(&(_, fd), _)| fd).collect();
        for fd in fds {
            // Each was open a moment ago: closing it cannot fail.
            let _ = self.close(client, fd);
        }
    }

    /// True when `client`'s registration for the queue behind `queue` still stands.
    pub fn is_registered(&self, client: u64, queue_id: u32) -> bool {
        self.queues
            .get(&queue_id)
            .and_then(|queue| queue.registration)
            .is_some_and(|registration| registration.client == client)
    }

    /// The queue a descriptor of `client` stands for.
    pub fn queue_of(&self, client: u64, queue: u32) -> Option<u32> {
        self.descriptors.get(&(client, queue)).copied()
    }
}

#[path = "mqueue_summary.rs"]
mod summary;

#[cfg(test)]
mod tests;
