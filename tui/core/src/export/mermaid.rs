//! The Mermaid export: a `sequenceDiagram` that tells a run's whole story: messages, in-kernel
//! service calls and their returns, notifications, death notices and interrupts as arrows;
//! faults, deaths, restarts, the kernel panic, the end of the boot and the end of the run as
//! notes. Participants are aliased (`participant P3 as fs`), so no process name can break the
//! diagram, and ordered clients first, then servers, each in order of first appearance, so
//! arrows from clients to servers run one way.

use super::mermaid_text::{mermaid_described, mermaid_text, mermaid_title};
use super::{Fate, RunInfo, drop_reason_name, message_fates, owner};
use mksim_kernel::event::{BlockedOn, Event, EventKind, EventLog};
use mksim_kernel::message::{MessageId, MessageKind};
use mksim_kernel::syscall::SyscallKind;
use mksim_kernel::{ObjectId, ProcessId};
use std::collections::{BTreeMap, BTreeSet};

use super::party::{Party, party};

/// One line of the diagram, its participants resolved to ids only when their order is known.
enum Line {
    Arrow {
        from: Party,
        arrow: &'static str,
        to: Party,
        text: String,
    },
    Note {
        over: Vec<Party>,
        text: String,
    },
    /// A note across every participant: from the first lane to the last.
    NoteAcross {
        text: String,
    },
}

/// Builds the sequence diagram in one pass over the log, then orders the participants.
pub(super) struct Diagram<'a> {
    log: &'a EventLog,
    info: &'a RunInfo,
    fates: Vec<Fate>,
    lines: Vec<Line>,
    /// Everyone drawn, in order of first appearance.
    appearance: Vec<Party>,
    /// Who was seen answering calls: the kernel, unowned ports, whoever is called or replies.
    servers: BTreeSet<Party>,
    /// By process: the in-kernel service call it waits in, not yet returned (monolithic mode).
    service_calls: BTreeMap<u32, MessageId>,
    /// By process: the last syscall it entered (a resumed service call is drawn as asked again).
    last_syscall: BTreeMap<u32, SyscallKind>,
    /// The process that died last: the kernel's death notices are about it.
    last_death: Option<ProcessId>,
    /// The process whose `restart` syscall is under way: the next restart is its doing.
    restarting: Option<u32>,
}

impl<'a> Diagram<'a> {
    pub(super) fn new(log: &'a EventLog, info: &'a RunInfo) -> Diagram<'a> {
        Diagram {
            log,
            info,
            fates: message_fates(log),
            lines: Vec::new(),
            appearance: Vec::new(),
            servers: BTreeSet::from([Party::Kernel]),
            service_calls: BTreeMap::new(),
            last_syscall: BTreeMap::new(),
            last_death: None,
            restarting: None,
        }
    }

    pub(super) fn render(mut self) -> String {
        for event in self.log.events() {
            self.event(event);
        }
        let order = self.order();
        let mut text = String::from("sequenceDiagram\n");
        text.push_str(&format!("    title {}\n", mermaid_title(&self.info.title())));
        for &participant in &order {
            text.push_str(&self.declaration(participant));
            text.push('\n');
        }
        for line in &self.lines {
            let drawn = match line {
                Line::Arrow { from, arrow, to, text } => {
                    format!("    {}{arrow}{}: {text}", party_id(*from), party_id(*to))
                }
                Line::Note { over, text } => {
                    let ids: Vec<String> = over.iter().map(|&participant| party_id(participant)).collect();
                    format!("    Note over {}: {text}", ids.join(","))
                }
                Line::NoteAcross { text } => match (order.first(), order.last()) {
                    (Some(&first), Some(&last)) if first != last => {
                        format!("    Note over {},{}: {text}", party_id(first), party_id(last))
                    }
                    (Some(&only), _) => format!("    Note over {}: {text}", party_id(only)),
                    _ => continue,
                },
            };
            text.push_str(&drawn);
            text.push('\n');
        }
        text
    }

    fn event(&mut self, event: &Event) {
        let process = event.process;
        match event.kind {
            EventKind::MessageSent { message } => self.message(message),
            EventKind::SyscallEntered { call } => {
                if call == SyscallKind::Restart {
                    self.restarting = Some(process.index);
                }
                self.last_syscall.insert(process.index, call);
            }
            EventKind::ServiceCalled { message } => self.service_called(process, message),
            // The call ends without an answer; the program asks again once woken.
            EventKind::Blocked { on: BlockedOn::Channel(_) } if self.service_calls.remove(&process.index).is_some() => {
                self.note(&[party(process)], "waits inside the kernel".to_owned());
            }
            EventKind::SyscallReturned { call, error } | EventKind::Woken { call, error }
                if matches!(call, SyscallKind::KernelService | SyscallKind::KernelResume) =>
            {
                if let Some(message) = self.service_calls.remove(&process.index) {
                    let operation = self.log.operation_name(self.log.message(message).label);
                    // What the module answered, as its server would have (`fs.open → fd 3`).
                    let text = match (error, self.log.service_answer(message)) {
                        (None, Some(answer)) => mermaid_described(&answer),
                        (None, None) => mermaid_text(&format!("{operation} → ok")),
                        (Some(error), _) => mermaid_text(&format!("{operation} → error: {error}")),
                    };
                    self.arrow(Party::Kernel, "-->>", party(process), text);
                }
            }
            EventKind::Signalled { notification, bits } => self.signalled(process, notification, bits),
            EventKind::Interrupt { notification, bits } => {
                let receiver = owner(self.log, notification).map_or(Party::Object(notification), party);
                let mut text = format!("interrupt bits {:#x}", self.log.bits(bits));
                if let Some(meaning) = self.log.interrupt_meaning(notification) {
                    text.push_str(": ");
                    text.push_str(meaning);
                }
                self.arrow(Party::Kernel, "-)", receiver, mermaid_text(&text));
            }
            EventKind::FaultInjected { .. } => {
                // In monolithic mode the fault strikes the service code the process called.
                let mut over = vec![party(process)];
                if self.service_calls.contains_key(&process.index) {
                    over.push(Party::Kernel);
                }
                self.note(&over, self.log.describe(event));
            }
            EventKind::Faulted { .. } | EventKind::Exited { .. } => {
                self.last_death = Some(process);
                self.note(&[party(process)], self.log.describe(event));
            }
            EventKind::Restarted => self.restarted(process),
            EventKind::KernelPanicked { .. } => {
                self.note(&[party(process), Party::Kernel], self.log.describe(event));
                if let Some(message) = self.service_calls.remove(&process.index) {
                    let operation = self.log.operation_name(self.log.message(message).label);
                    let text = format!("{operation} never returns");
                    self.arrow(Party::Kernel, "--x", party(process), mermaid_text(&text));
                }
            }
            EventKind::BootWork { .. } => self.note(&[Party::Kernel], self.log.describe(event)),
            EventKind::BootDone => self.lines.push(Line::NoteAcross { text: format!("boot done at t={}", event.time) }),
            EventKind::RunEnded { .. } => {
                let text = format!("{} at t={}", self.log.describe(event), event.time);
                self.lines.push(Line::NoteAcross { text: mermaid_text(&text) });
            }
            _ => {}
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
        match record.kind {
            MessageKind::Call => {
                self.servers.insert(target);
            }
            MessageKind::Reply => {
                self.servers.insert(party(record.sender));
            }
            _ if matches!(target, Party::Object(_)) => {
                self.servers.insert(target);
            }
            _ => {}
        }
        let mut text = mermaid_described(&self.log.message_content(message));
        match fate {
            Fate::Dropped { reason } => {
                text.push_str(&format!(" (dropped: {})", drop_reason_name(reason).replace('_', " ")));
            }
            Fate::Pending => text.push_str(" (never delivered)"),
            Fate::Delivered { .. } => {}
        }
        self.arrow(party(record.sender), arrow, target, text);
    }

    fn service_called(&mut self, process: ProcessId, message: MessageId) {
        let mut text = mermaid_described(&self.log.message_content(message));
        if self.last_syscall.get(&process.index) == Some(&SyscallKind::KernelResume) {
            text.push_str(" (again)");
        }
        self.service_calls.insert(process.index, message);
        self.arrow(party(process), "->>", Party::Kernel, text);
    }

    /// A signal: from a process, from a service inside the kernel, or the kernel's death notice.
    fn signalled(&mut self, process: ProcessId, notification: ObjectId, bits: mksim_kernel::event::BitsId) {
        let receiver = owner(self.log, notification).map_or(Party::Object(notification), party);
        let bits = self.log.bits(bits);
        if !process.is_kernel() {
            // A service in the kernel signals for the process that called it.
            let from = if self.service_calls.contains_key(&process.index) { Party::Kernel } else { party(process) };
            self.arrow(from, "-)", receiver, format!("signal bits {bits:#x}"));
            return;
        }
        match self.last_death {
            Some(dead) => {
                let text = format!("death notice: {} died (bits {bits:#x})", self.log.process_name(dead));
                self.arrow(party(dead), "-)", receiver, mermaid_text(&text));
            }
            None => self.arrow(Party::Kernel, "-)", receiver, format!("signal bits {bits:#x}")),
        }
    }

    /// A new incarnation: an arrow from whoever asked for it, else a note.
    fn restarted(&mut self, process: ProcessId) {
        let text = format!("restart {}: a new incarnation", self.log.process_name(process));
        match self.restarting.take().filter(|&index| index != process.index) {
            Some(index) => {
                self.arrow(Party::Process(index), "->>", party(process), mermaid_text(&text));
            }
            None => self.note(&[party(process)], text),
        }
    }

    fn arrow(&mut self, from: Party, arrow: &'static str, to: Party, text: String) {
        self.appear(from);
        self.appear(to);
        self.lines.push(Line::Arrow { from, arrow, to, text });
    }

    /// A note over these participants; `text` is plain and made safe here.
    fn note(&mut self, over: &[Party], text: String) {
        let mut unique = Vec::new();
        for &participant in over {
            self.appear(participant);
            if !unique.contains(&participant) {
                unique.push(participant);
            }
        }
        self.lines.push(Line::Note { over: unique, text: mermaid_text(&text) });
    }

    fn appear(&mut self, participant: Party) {
        if !self.appearance.contains(&participant) {
            self.appearance.push(participant);
        }
    }

    /// Clients first, then servers (made as servers, or seen answering calls), each in order of
    /// first appearance.
    fn order(&self) -> Vec<Party> {
        let is_server = |participant: &&Party| match **participant {
            Party::Process(index) => {
                self.servers.contains(participant) || self.log.is_server(ProcessId { index, generation: 0 })
            }
            _ => self.servers.contains(participant),
        };
        let (servers, clients): (Vec<Party>, Vec<Party>) = self.appearance.iter().partition(is_server);
        clients.into_iter().chain(servers).collect()
    }

    fn declaration(&self, participant: Party) -> String {
        let id = party_id(participant);
        match participant {
            Party::Process(index) => {
                let name = self.log.process_name(ProcessId { index, generation: 0 });
                format!("    participant {id} as {}", mermaid_text(name))
            }
            // A process may be called `kernel` too: the kernel's own lane then says which it is.
            Party::Kernel if self.appearance.iter().any(|&other| self.is_named_kernel(other)) => {
                format!("    participant {id} as the kernel")
            }
            Party::Kernel => format!("    participant {id} as kernel"),
            Party::Object(object) => {
                format!("    participant {id} as {}", mermaid_text(&self.log.describe_object(object)))
            }
        }
    }

    fn is_named_kernel(&self, participant: Party) -> bool {
        match participant {
            Party::Process(index) => {
                self.log.process_name(ProcessId { index, generation: 0 }).trim().eq_ignore_ascii_case("kernel")
            }
            _ => false,
        }
    }
}

/// A participant's id: aliased, so a process name never has to be a Mermaid identifier.
fn party_id(participant: Party) -> String {
    match participant {
        Party::Process(index) => format!("P{index}"),
        Party::Kernel => "K".to_owned(),
        Party::Object(object) => format!("O{}_{}", object.index, object.generation),
    }
}
