//! What the message queues hold, as the event log keeps it after each request that changed
//! it: each queue's name and its messages by priority, with the head of each priority cut
//! short (see `mksim_userland::service_state`).

use super::MessageQueues;
use mksim_userland::service_state::{PriorityMessages, QueueSummary, QueuesSummary, ServiceSummary, cut, listed};

impl MessageQueues {
    /// The queues and their messages by priority, the first
    /// [`mksim_userland::service_state::LISTED_MAX`] queues by number.
    pub fn summary(&self) -> ServiceSummary {
        let (queues, more) = listed(self.queues.iter(), |(&id, queue)| QueueSummary {
            // Names are few (a queue has one at most): a search per listed queue stays cheap.
            name: self.names.iter().find(|(_, named)| **named == id).map(|(name, _)| cut(name)),
            capacity: queue.capacity,
            priorities: queue
                .messages
                .iter()
                .rev()
                .map(|(&priority, messages)| PriorityMessages {
                    priority,
                    count: u32::try_from(messages.len()).unwrap_or(u32::MAX),
                    head: messages.front().map(|data| cut(&String::from_utf8_lossy(data))).unwrap_or_default(),
                })
                .collect(),
            opened: queue.opened,
        });
        ServiceSummary::Queues(QueuesSummary { queues, more })
    }
}

#[cfg(test)]
mod tests {
    use crate::mqueue::{MessageQueues, MqConfig};
    use mksim_userland::protocol::{MqReply, MqRequest};
    use mksim_userland::service_state::{PriorityMessages, ServiceSummary};

    #[test]
    fn the_summary_counts_messages_by_priority_highest_first() {
        let mut queues = MessageQueues::new(MqConfig::default());
        let open = MqRequest::Open { name: "/jobs".into(), capacity: 8, message_bytes_max: 64 };
        let crate::mqueue::Outcome::Done(MqReply::Descriptor(queue)) = queues.handle(1, open).outcome else {
            panic!("open failed")
        };
        for (text, priority) in [("low", 1), ("urgent", 5), ("later", 1), ("urgent too", 5), ("x", 5)] {
            let send = MqRequest::Send { queue, data: text.as_bytes().to_vec(), priority, nonblocking: true };
            queues.handle(1, send);
        }
        queues.handle(1, MqRequest::Receive { queue, nonblocking: true });
        let ServiceSummary::Queues(summary) = queues.summary() else { panic!("a queue summary") };
        let listed = &summary.queues[0];
        assert_eq!(listed.name.as_deref(), Some("/jobs"));
        assert_eq!((listed.length(), listed.capacity, listed.opened), (4, 8, 1));
        assert_eq!(
            listed.priorities,
            [
                PriorityMessages { priority: 5, count: 2, head: "urgent too".into() },
                PriorityMessages { priority: 1, count: 2, head: "low".into() },
            ]
        );
        queues.handle(1, MqRequest::Unlink { name: "/jobs".into() });
        let ServiceSummary::Queues(summary) = queues.summary() else { panic!("a queue summary") };
        assert_eq!(summary.queues[0].name, None);
    }
}
