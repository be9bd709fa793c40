//! Revocation workloads: a smaller, focused system for checking revoke ([`RevokeWorkload`]),
//! its strategy ([`revoke_strategy`]) and its builder ([`build_revoke`]).

use crate::interpreter::priority;
use crate::strategies::{badge, rights};
use crate::workload::Settings;
use mksim_kernel::message::{CapTransfer, TransferMode};
use mksim_kernel::{
    Badge, FullPolicy, Kernel, Message, MessageData, ObjectId, ProcessId, ProcessSpec, ProgramResult, Rights, Slot,
    Sys, SysError,
};
use proptest::prelude::*;
use proptest::sample::Index;
use std::cell::RefCell;
use std::rc::Rc;

/// A focused system for checking revoke: every process has a mailbox queue
/// (slot `i` of every process reaches process `i`'s mailbox), process 0 holds
/// the root capability (slot `processes.len()`) and revokes it at some point;
/// capabilities derived from it are spread at setup and at run time.
#[derive(Clone, Debug)]
pub struct RevokeWorkload {
    /// The processes; process 0 holds the root.
    pub processes: Vec<RevokeProcess>,
    /// The kind of object the root reaches.
    pub root_kind: RootKind,
    /// The rights of the root capability.
    pub root_rights: Rights,
    /// A second, independent original capability to the same object, given to this process.
    pub independent: Option<Index>,
    /// Capabilities derived at setup with `grant_derived`, each from an earlier one (the root first).
    pub derived: Vec<DerivedPlan>,
    /// Where in process 0's operations the revoke of the root goes.
    pub revoke_at: Index,
}

/// The kind of the object behind a revocation workload's root.
#[derive(Clone, Copy, Debug)]
pub enum RootKind {
    /// An endpoint.
    Endpoint,
    /// A queue port.
    Queue,
    /// A notification.
    Notification,
    /// A memory region.
    Region,
}

/// A capability derived at setup.
#[derive(Clone, Debug)]
pub struct DerivedPlan {
    /// Who receives it.
    pub holder: Index,
    /// Which earlier capability it is derived from (the root, the independent one, earlier derived ones).
    pub from: Index,
    /// Rights asked for.
    pub rights: Rights,
    /// Badge (zero keeps the source's).
    pub badge: Badge,
}

/// One process of a revocation workload.
#[derive(Clone, Debug)]
pub struct RevokeProcess {
    /// Priority level.
    pub priority: u8,
    /// What it does.
    pub ops: Vec<RevokeOp>,
}

/// An operation in a revocation workload. Slot numbers count from the first
/// slot after the mailboxes (so slot 0 of process 0 is the root).
#[derive(Clone, Debug)]
pub enum RevokeOp {
    /// Copy a capability.
    Copy {
        /// The slot.
        slot: u32,
        /// Rights kept.
        rights: Rights,
    },
    /// Mint a capability with a badge.
    Mint {
        /// The slot.
        slot: u32,
        /// Rights kept.
        rights: Rights,
        /// The badge.
        badge: Badge,
    },
    /// Send a capability to another process's mailbox (never blocks).
    Pass {
        /// The receiving process.
        to: Index,
        /// The slot sent.
        slot: u32,
        /// Copy or move.
        mode: TransferMode,
        /// Rights the receiver may keep.
        rights: Rights,
    },
    /// Take one message from the own mailbox, if there is one.
    Take,
    /// Delete a capability.
    Delete {
        /// The slot.
        slot: u32,
    },
    /// Revoke what was derived from a capability.
    Revoke {
        /// The slot.
        slot: u32,
    },
    /// Yield.
    Yield,
    /// Compute a little, to shuffle the interleaving.
    Compute {
        /// Cycles.
        cycles: u64,
    },
}

fn revoke_op() -> impl Strategy<Value = RevokeOp> {
    let slot = 0u32..8;
    let mode = prop_oneof![Just(TransferMode::Copy), Just(TransferMode::Move)];
    prop_oneof![
        3 => (slot.clone(), rights()).prop_map(|(slot, rights)| RevokeOp::Copy { slot, rights }),
        2 => (slot.clone(), rights(), badge()).prop_map(|(slot, rights, badge)| RevokeOp::Mint { slot, rights, badge }),
        4 => (any::<Index>(), slot.clone(), mode, rights())
            .prop_map(|(to, slot, mode, rights)| RevokeOp::Pass { to, slot, mode, rights }),
        4 => Just(RevokeOp::Take),
        1 => slot.clone().prop_map(|slot| RevokeOp::Delete { slot }),
        1 => slot.prop_map(|slot| RevokeOp::Revoke { slot }),
        1 => Just(RevokeOp::Yield),
        1 => (1u64..3_000).prop_map(|cycles| RevokeOp::Compute { cycles }),
    ]
}

/// Random revocation workloads.
pub fn revoke_strategy() -> impl Strategy<Value = RevokeWorkload> {
    let process =
        (1u8..4, prop::collection::vec(revoke_op(), 0..20)).prop_map(|(priority, ops)| RevokeProcess { priority, ops });
    let root_kind = prop_oneof![
        Just(RootKind::Endpoint),
        Just(RootKind::Queue),
        Just(RootKind::Notification),
        Just(RootKind::Region),
    ];
    let derived = (any::<Index>(), any::<Index>(), rights(), badge())
        .prop_map(|(holder, from, rights, badge)| DerivedPlan { holder, from, rights, badge });
    (
        prop::collection::vec(process, 2..=5),
        root_kind,
        rights(),
        prop::option::weighted(0.3, any::<Index>()),
        prop::collection::vec(derived, 0..12),
        any::<Index>(),
    )
        .prop_map(|(processes, root_kind, root_rights, independent, derived, revoke_at)| RevokeWorkload {
            processes,
            root_kind,
            root_rights,
            independent,
            derived,
            revoke_at,
        })
}

/// The revokes of the root process 0 made.
#[derive(Debug, Default)]
pub struct RootRevokes {
    /// Revokes of the root handed to the kernel. The count goes up in the very
    /// step that carries the revoke out, so a test stepping the kernel can tell.
    pub started: usize,
    /// What each returned (the number of capabilities removed), once process 0 saw it.
    pub results: Vec<Result<u64, SysError>>,
}

/// A built revocation workload.
pub struct RevokeRun {
    /// The kernel, ready to run.
    pub kernel: Kernel,
    /// Process 0, which holds the root.
    pub root_holder: ProcessId,
    /// The root's slot.
    pub root_slot: Slot,
    /// The object every capability of interest reaches.
    pub object: ObjectId,
    /// The independent original capability, if the workload has one.
    pub independent: Option<(ProcessId, Slot)>,
    /// What every revoke of the root returned (the number of capabilities removed), in order.
    pub root_revokes: Rc<RefCell<RootRevokes>>,
}

async fn revoke_program(
    sys: Sys,
    base: u32,
    is_root_holder: bool,
    ops: Vec<RevokeOp>,
    mailboxes: usize,
    root_revokes: Rc<RefCell<RootRevokes>>,
) -> ProgramResult {
    let own_mailbox = Slot(sys.process().index);
    let root = Slot(base);
    for op in ops {
        let slot = |number: u32| Slot(base + number);
        // Process 0 never gives its root away, so the root lives until it exits.
        let keeps_root = |number: u32| is_root_holder && slot(number) == root;
        // Errors are expected (empty slots, full mailboxes) and ignored.
        match op {
            RevokeOp::Copy { slot: number, rights } => {
                let _ = sys.copy(slot(number), rights).await;
            }
            RevokeOp::Mint { slot: number, rights, badge } => {
                let _ = sys.mint(slot(number), rights, badge).await;
            }
            RevokeOp::Pass { to, slot: number, mode, rights } => {
                let mode = if keeps_root(number) { TransferMode::Copy } else { mode };
                let to = Slot(to.index(mailboxes) as u32);
                let message = Message {
                    label: 0,
                    data: MessageData::new(),
                    caps: vec![CapTransfer { slot: slot(number), mode, rights }],
                };
                let _ = sys.try_send(to, message).await;
            }
            RevokeOp::Take => {
                let _ = sys.try_receive(own_mailbox).await;
            }
            RevokeOp::Delete { slot: number } if keeps_root(number) => {}
            RevokeOp::Delete { slot: number } => {
                let _ = sys.delete(slot(number)).await;
            }
            RevokeOp::Revoke { slot: number } => {
                if keeps_root(number) {
                    root_revokes.borrow_mut().started += 1;
                    let revoked = sys.revoke(slot(number)).await;
                    root_revokes.borrow_mut().results.push(revoked);
                } else {
                    let _ = sys.revoke(slot(number)).await;
                }
            }
            RevokeOp::Yield => {
                let _ = sys.yield_now().await;
            }
            RevokeOp::Compute { cycles } => {
                let _ = sys.compute(cycles).await;
            }
        }
    }
    Ok(0)
}

/// Builds a revocation workload with `seed`.
pub fn build_revoke(workload: &RevokeWorkload, seed: u64) -> RevokeRun {
    let settings = Settings {
        priority_inheritance: false,
        refuse_deadlocks: false,
        timeslice_cycles: 2_000,
        capability_slots_max: 256,
        objects_per_process_max: 64,
    };
    let mut kernel = Kernel::new(settings.config(seed));
    let count = workload.processes.len();
    let ids: Vec<ProcessId> = workload
        .processes
        .iter()
        .enumerate()
        .map(|(index, plan)| kernel.create_process(ProcessSpec::program(&format!("p{index}"), priority(plan.priority))))
        .collect();
    let mailboxes: Vec<ObjectId> = ids.iter().map(|&id| kernel.create_queue(id, 4, FullPolicy::Fail)).collect();
    for (holder_index, &holder) in ids.iter().enumerate() {
        for (owner_index, &mailbox) in mailboxes.iter().enumerate() {
            let rights = if holder_index == owner_index { Rights::all() } else { Rights::SEND | Rights::GRANT };
            let slot = kernel.grant(holder, mailbox, rights, Badge::NONE).expect("a new process has free slots");
            assert_eq!(slot, Slot(owner_index as u32), "mailbox slots are laid out in process order");
        }
    }
    let root_holder = ids[0];
    let object = match workload.root_kind {
        RootKind::Endpoint => kernel.create_endpoint(root_holder),
        RootKind::Queue => kernel.create_queue(root_holder, 2, FullPolicy::Fail),
        RootKind::Notification => kernel.create_notification(root_holder),
        RootKind::Region => kernel.create_region(root_holder, 16),
    };
    let base = count as u32;
    let root_slot =
        kernel.grant(root_holder, object, workload.root_rights, Badge::NONE).expect("a new process has free slots");
    assert_eq!(root_slot, Slot(base));
    let mut holdings = vec![(root_holder, root_slot)];
    let independent = workload.independent.as_ref().map(|holder| {
        let holder = ids[holder.index(count)];
        let slot = kernel.grant(holder, object, Rights::all(), Badge::NONE).expect("a new process has free slots");
        holdings.push((holder, slot));
        (holder, slot)
    });
    for plan in &workload.derived {
        let holder = ids[plan.holder.index(count)];
        let (source, slot) = holdings[plan.from.index(holdings.len())];
        // A badged capability refuses a different badge; the workload goes on without it.
        if let Ok(slot) = kernel.grant_derived(holder, source, slot, plan.rights, plan.badge) {
            holdings.push((holder, slot));
        }
    }
    let root_revokes: Rc<RefCell<RootRevokes>> = Rc::default();
    for (index, plan) in workload.processes.iter().enumerate() {
        let mut ops = plan.ops.clone();
        if index == 0 {
            let at = workload.revoke_at.index(ops.len() + 1);
            ops.insert(at, RevokeOp::Revoke { slot: 0 });
        }
        let root_revokes = Rc::clone(&root_revokes);
        kernel.start(ids[index], move |sys| revoke_program(sys, base, index == 0, ops, count, root_revokes));
    }
    RevokeRun { kernel, root_holder, root_slot, object, independent, root_revokes }
}
