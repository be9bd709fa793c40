//! The Mermaid export: a `sequenceDiagram` of messages and notes, its
//! participants aliased so no process name can break the diagram.

use super::{Fate, drop_reason_name, message_fates, owner};
use mksim_kernel::event::{EventKind, EventLog};
use mksim_kernel::message::{MessageId, MessageKind};
use mksim_kernel::{ObjectId, ProcessId};
use std::collections::BTreeSet;

/// Someone a diagram line is drawn from or to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Party {
    Process(u32),
    Kernel,
    /// A port with no owner, drawn as itself.
    Object(ObjectId),
}

fn party(id: ProcessId) -> Party {
    if id.is_kernel() { Party::Kernel } else { Party::Process(id.index) }
}

/// Builds the sequence diagram: participants in order of first appearance, then one line per message or note.
pub(super) struct Diagram<'a> {
    log: &'a EventLog,
    fates: Vec<Fate>,
    participants: Vec<Party>,
    seen: BTreeSet<Party>,
    lines: Vec<String>,
}

impl<'a> Diagram<'a> {
    pub(super) fn new(log: &'a EventLog) -> Diagram<'a> {
        Diagram { log, fates: message_fates(log), participants: Vec::new(), seen: BTreeSet::new(), lines: Vec::new() }
    }

    pub(super) fn render(mut self) -> String {
        // Where the end of a boot that drew nothing goes, and when it was.
        let mut quiet_boot = None;
        for event in self.log.events() {
            match event.kind {
                EventKind::MessageSent { message } => self.message(message),
                EventKind::ServiceCalled { message } => {
                    let from = self.participant(party(event.process));
                    let to = self.participant(Party::Kernel);
                    let text = mermaid_text(&self.log.message_content(message));
                    self.lines.push(format!("    {from}->>{to}: {text}"));
                }
                EventKind::Signalled { notification, bits } => {
                    let receiver = owner(self.log, notification).map_or(Party::Kernel, party);
                    let bits = self.log.bits(bits);
                    self.note(&[party(event.process), receiver], &format!("signal bits {bits:#x}"));
                }
                EventKind::Interrupt { notification, bits } => {
                    let receiver = owner(self.log, notification).map_or(Party::Kernel, party);
                    let bits = self.log.bits(bits);
                    self.note(&[receiver], &format!("interrupt bits {bits:#x}"));
                }
                EventKind::BootWork { .. } => self.note(&[Party::Kernel], &self.log.describe(event)),
                EventKind::BootDone => match (self.participants.first(), self.participants.last()) {
                    // Across everyone drawn so far: the servers that booted.
                    (Some(&first), Some(&last)) => self.note(&[first, last], &format!("boot done at t={}", event.time)),
                    // Nobody drawn yet: over whoever is drawn first, once known.
                    _ => quiet_boot = Some((self.lines.len(), event.time)),
                },
                _ => {}
            }
        }
        if let (Some((line, time)), Some(&first)) = (quiet_boot, self.participants.first()) {
            let note = format!("    Note over {}: boot done at t={time}", party_id(first));
            self.lines.insert(line, note);
        }
        let mut text = String::from("sequenceDiagram\n");
        for &participant in &self.participants {
            text.push_str(&self.declaration(participant));
            text.push('\n');
        }
        for line in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// The participant's id in the diagram, declaring it on first use.
    fn participant(&mut self, participant: Party) -> String {
        if self.seen.insert(participant) {
            self.participants.push(participant);
        }
        party_id(participant)
    }

    fn declaration(&self, participant: Party) -> String {
        let id = party_id(participant);
        match participant {
            Party::Process(index) => {
                let name = self.log.process_name(ProcessId { index, generation: 0 });
                format!("    participant {id} as {}", mermaid_text(name))
            }
            Party::Kernel => format!("    participant {id}"),
            Party::Object(object) => {
                format!("    participant {id} as {}", mermaid_text(&self.log.describe_object(object)))
            }
        }
    }

    fn message(&mut self, message: MessageId) {
        let record = *self.log.message(message);
        let fate = self.fates[message.0 as usize];
        let target = match fate {
            Fate::Delivered { receiver } => party(receiver),
            Fate::Pending | Fate::Dropped { .. } => {
                self.log.receiver_of(message).map_or(Party::Object(record.port), party)
            }
        };
        let arrow = match (fate, record.kind) {
            (Fate::Dropped { .. }, _) => "-x",
            (_, MessageKind::Reply) => "-->>",
            (_, MessageKind::Async) => "-)",
            (_, MessageKind::Send | MessageKind::Call | MessageKind::Service) => "->>",
        };
        let mut text = self.log.message_content(message);
        match fate {
            Fate::Dropped { reason } => {
                text.push_str(" (dropped: ");
                text.push_str(&drop_reason_name(reason).replace('_', " "));
                text.push(')');
            }
            Fate::Pending => text.push_str(" (never delivered)"),
            Fate::Delivered { .. } => {}
        }
        let from = self.participant(party(record.sender));
        let to = self.participant(target);
        self.lines.push(format!("    {from}{arrow}{to}: {}", mermaid_text(&text)));
    }

    fn note(&mut self, over: &[Party], text: &str) {
        let mut ids: Vec<String> = Vec::new();
        for &participant in over {
            let id = self.participant(participant);
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        self.lines.push(format!("    Note over {}: {}", ids.join(","), mermaid_text(text)));
    }
}

/// A participant's id: aliased, so a process name never has to be a Mermaid identifier.
fn party_id(participant: Party) -> String {
    match participant {
        Party::Process(index) => format!("P{index}"),
        Party::Kernel => "kernel".to_owned(),
        Party::Object(object) => format!("O{}_{}", object.index, object.generation),
    }
}

/// Text made safe for one Mermaid line.
///
/// Mermaid ends a statement at `;`, starts a comment at `#` or `%%`, and
/// ends a line at a line break, so `#`, `;` and `%` become entity codes
/// (which Mermaid decodes before drawing) and line breaks become `<br/>`.
/// Other control characters are escaped as every text view escapes them
/// ([`mksim_kernel::escape_controls`]).
fn mermaid_text(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '#' => safe.push_str("#35;"),
            ';' => safe.push_str("#59;"),
            '%' => safe.push_str("#37;"),
            '\n' => safe.push_str("<br/>"),
            '\r' => {}
            other if mksim_kernel::text::is_unsafe_to_show(other) => {
                safe.push_str(&mksim_kernel::escape_controls(other.encode_utf8(&mut [0; 4])));
            }
            other => safe.push(other),
        }
    }
    safe
}
