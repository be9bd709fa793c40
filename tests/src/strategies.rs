//! The proptest strategies that draw random workloads ([`workload_strategy`],
//! [`op_strategy`]) under [`Options`]. Every part shrinks: references between
//! parts are [`Index`]es that shrink towards the first element.

use crate::workload::{
    FaultPlan, GrantPlan, GrantSource, MessagePlan, ObjectPlan, Op, PortPlan, ProcessPlan, Settings, SlotRef,
    TransferPlan, Workload,
};
use mksim_kernel::message::TransferMode;
use mksim_kernel::syscall::ServiceWork;
use mksim_kernel::{Badge, Blocking, FullPolicy, Rights};
use proptest::prelude::*;
use proptest::sample::Index;

/// What kinds of workloads [`workload_strategy`] draws.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Allow receives closed to one badge (these legitimately take messages out of order).
    pub closed_receives: bool,
    /// Allow faults injected from outside.
    pub faults: bool,
    /// Most operations per process.
    pub max_ops: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { closed_receives: true, faults: true, max_ops: 32 }
    }
}

fn slot_ref() -> BoxedStrategy<SlotRef> {
    prop_oneof![
        12 => any::<Index>().prop_map(SlotRef::Fitting),
        4 => any::<Index>().prop_map(SlotRef::Known),
        3 => (0u32..8).prop_map(SlotRef::Fixed),
        2 => Just(SlotRef::LastReply),
        1 => Just(SlotRef::LastReceived),
        1 => Just(SlotRef::LastCreated),
        1 => Just(SlotRef::Fixed(u32::MAX)),
    ]
    .boxed()
}

pub(crate) fn rights() -> BoxedStrategy<Rights> {
    prop_oneof![
        3 => Just(Rights::all()),
        2 => Just(Rights::SEND | Rights::GRANT),
        1 => Just(Rights::SEND),
        1 => Just(Rights::RECEIVE),
        1 => Just(Rights::READ | Rights::WRITE),
        3 => any::<u8>().prop_map(Rights::from_bits_truncate),
    ]
    .boxed()
}

pub(crate) fn badge() -> BoxedStrategy<Badge> {
    prop_oneof![2 => Just(Badge::NONE), 3 => (1u64..4).prop_map(Badge)].boxed()
}

fn blocking() -> BoxedStrategy<Blocking> {
    prop_oneof![
        2 => Just(Blocking::Forever),
        2 => Just(Blocking::Never),
        4 => (0u64..20_000).prop_map(Blocking::Timeout),
    ]
    .boxed()
}

fn full_policy() -> BoxedStrategy<FullPolicy> {
    prop_oneof![Just(FullPolicy::Block), Just(FullPolicy::Fail)].boxed()
}

fn transfer() -> BoxedStrategy<TransferPlan> {
    let mode = prop_oneof![Just(TransferMode::Copy), Just(TransferMode::Move)];
    (slot_ref(), mode, rights()).prop_map(|(slot, mode, rights)| TransferPlan { slot, mode, rights }).boxed()
}

fn message() -> BoxedStrategy<MessagePlan> {
    let len = prop_oneof![20 => 0u16..24, 1 => Just(1100u16)];
    let caps = prop_oneof![
        6 => Just(Vec::new()),
        6 => prop::collection::vec(transfer(), 1..=2),
        1 => prop::collection::vec(transfer(), 3..=5),
    ];
    (0u32..4, len, caps).prop_map(|(label, len, caps)| MessagePlan { label, len, caps }).boxed()
}

fn from_badge(closed: bool) -> BoxedStrategy<Option<Badge>> {
    if closed { prop_oneof![3 => Just(None), 1 => badge().prop_map(Some)].boxed() } else { Just(None).boxed() }
}

fn ipc_op(closed: bool) -> BoxedStrategy<Op> {
    prop_oneof![
        4 => (slot_ref(), message(), blocking()).prop_map(|(port, message, blocking)| Op::Send { port, message, blocking }),
        3 => (slot_ref(), message(), blocking()).prop_map(|(port, message, blocking)| Op::Call { port, message, blocking }),
        5 => (slot_ref(), from_badge(closed), blocking())
            .prop_map(|(port, from, blocking)| Op::Receive { port, from, blocking }),
        2 => (slot_ref(), message()).prop_map(|(reply, message)| Op::Reply { reply, message }),
        2 => (slot_ref(), message(), slot_ref(), from_badge(closed), blocking()).prop_map(
            |(reply, message, port, from, blocking)| Op::ReplyReceive { reply, message, port, from, blocking }
        ),
        4 => (slot_ref(), 1u8..=4, blocking(), message())
            .prop_map(|(port, count, blocking, answer)| Op::Serve { port, count, blocking, answer }),
    ]
    .boxed()
}

fn notification_op() -> BoxedStrategy<Op> {
    prop_oneof![
        3 => (slot_ref(), 0u64..8).prop_map(|(notification, bits)| Op::Signal { notification, bits }),
        3 => (slot_ref(), blocking()).prop_map(|(notification, blocking)| Op::Wait { notification, blocking }),
        1 => slot_ref().prop_map(|notification| Op::Bind { notification }),
        1 => (slot_ref(), slot_ref(), 0u64..8)
            .prop_map(|(process, notification, bits)| Op::Watch { process, notification, bits }),
        // Periods shorter than the interrupt cost (1235 cycles under sel4) are an interrupt storm:
        // the kernel must still end every step (see the test
        // `periodic_timers_that_cost_more_than_their_period_still_let_the_run_end`).
        1 => (slot_ref(), 0u64..8, 0u64..5_000, prop::option::weighted(0.2, periodic())).prop_map(
            |(notification, bits, delay, period)| Op::ArmTimer { notification, bits, delay, period }
        ),
    ]
    .boxed()
}

fn periodic() -> BoxedStrategy<u64> {
    prop_oneof![1 => 500u64..3_000, 3 => 50_000u64..200_000].boxed()
}

fn authority_op() -> BoxedStrategy<Op> {
    prop_oneof![
        1 => Just(Op::CreateEndpoint),
        1 => (0u32..4, full_policy()).prop_map(|(capacity, policy)| Op::CreateQueue { capacity, policy }),
        1 => Just(Op::CreateNotification),
        1 => prop_oneof![8 => 0u32..64, 1 => Just(1u32 << 21)].prop_map(|size| Op::CreateRegion { size }),
        3 => (slot_ref(), rights()).prop_map(|(slot, rights)| Op::Copy { slot, rights }),
        3 => (slot_ref(), rights(), badge()).prop_map(|(slot, rights, badge)| Op::Mint { slot, rights, badge }),
        2 => slot_ref().prop_map(|slot| Op::Delete { slot }),
        2 => slot_ref().prop_map(|slot| Op::Revoke { slot }),
    ]
    .boxed()
}

fn misc_op() -> BoxedStrategy<Op> {
    let offset = prop_oneof![8 => 0u32..80, 1 => Just(u32::MAX)];
    prop_oneof![
        2 => (slot_ref(), offset.clone(), 0u32..40)
            .prop_map(|(region, offset, len)| Op::RegionRead { region, offset, len }),
        2 => (slot_ref(), offset, 0u32..40).prop_map(|(region, offset, len)| Op::RegionWrite { region, offset, len }),
        2 => (1u64..5_000).prop_map(|cycles| Op::Sleep { cycles }),
        2 => prop_oneof![0u64..1_000, 50_000u64..250_000].prop_map(|cycles| Op::Compute { cycles }),
        2 => Just(Op::Yield),
        1 => Just(Op::Clock),
        1 => Just(Op::Random),
        1 => (0i32..3).prop_map(|code| Op::Exit { code }),
        1 => (0u32..4, 0u16..16, 0u64..4, 0u64..64, prop_oneof![Just(0u64), 1u64..3_000], 0u64..2).prop_map(
            |(label, len, function_calls, bytes_copied, device_cycles, interrupts)| Op::KernelService {
                label,
                len,
                work: ServiceWork { function_calls, bytes_copied, device_cycles, interrupts, ..ServiceWork::default() },
            }
        ),
    ]
    .boxed()
}

/// One random operation.
pub fn op_strategy(options: Options) -> BoxedStrategy<Op> {
    // Boxed throughout: unboxed, the nested value trees overflow the stack of a debug build.
    prop_oneof![
        8 => ipc_op(options.closed_receives),
        2 => notification_op(),
        3 => authority_op(),
        2 => misc_op(),
    ]
    .boxed()
}

fn process_plan(options: Options) -> impl Strategy<Value = ProcessPlan> {
    let port = prop_oneof![
        1 => Just(None),
        2 => Just(Some(PortPlan::Endpoint)),
        2 => (1u32..4, full_policy()).prop_map(|(capacity, policy)| Some(PortPlan::Queue { capacity, policy })),
    ];
    let ops = prop::collection::vec(op_strategy(options), 0..=options.max_ops);
    (1u8..5, prop::bool::weighted(0.4), port, 1u8..=4, ops)
        .prop_map(|(priority, server, port, rounds, ops)| ProcessPlan { priority, server, port, rounds, ops })
}

fn object_plan() -> impl Strategy<Value = ObjectPlan> {
    prop_oneof![
        4 => any::<Index>().prop_map(|owner| ObjectPlan::Endpoint { owner }),
        4 => (any::<Index>(), 1u32..4, full_policy())
            .prop_map(|(owner, capacity, policy)| ObjectPlan::Queue { owner, capacity, policy }),
        2 => any::<Index>().prop_map(|owner| ObjectPlan::Notification { owner }),
        2 => (any::<Index>(), 0u32..64).prop_map(|(owner, size)| ObjectPlan::Region { owner, size }),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(target, holder)| ObjectPlan::ProcessHandle { target, holder }),
    ]
}

fn grant_plan() -> impl Strategy<Value = GrantPlan> {
    let source = prop_oneof![
        1 => any::<Index>().prop_map(GrantSource::Object),
        3 => any::<Index>().prop_map(GrantSource::Derived),
    ];
    (any::<Index>(), source, rights(), badge()).prop_map(|(holder, source, rights, badge)| GrantPlan {
        holder,
        source,
        rights,
        badge,
    })
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(100_000u64), Just(5_000u64)],
        prop_oneof![3 => Just(256usize), 1 => 3usize..12],
        prop_oneof![3 => Just(64usize), 1 => 1usize..4],
    )
        .prop_map(
            |(
                priority_inheritance,
                refuse_deadlocks,
                timeslice_cycles,
                capability_slots_max,
                objects_per_process_max,
            )| {
                Settings {
                    priority_inheritance,
                    refuse_deadlocks,
                    timeslice_cycles,
                    capability_slots_max,
                    objects_per_process_max,
                }
            },
        )
}

/// Random workloads of the kind `options` describes.
pub fn workload_strategy(options: Options) -> impl Strategy<Value = Workload> {
    let faults = if options.faults {
        let fault = (0u64..150, any::<Index>()).prop_map(|(at_step, process)| FaultPlan { at_step, process });
        prop_oneof![3 => Just(Vec::new()), 1 => prop::collection::vec(fault, 1..=2)].boxed()
    } else {
        Just(Vec::new()).boxed()
    };
    (
        settings(),
        prop::collection::vec(process_plan(options), 2..=6),
        prop::collection::vec(object_plan(), 1..=5),
        prop::collection::vec(grant_plan(), 4..=16),
        faults,
    )
        .prop_map(|(settings, processes, objects, grants, faults)| Workload {
            settings,
            processes,
            objects,
            grants,
            faults,
        })
}

/// Random workloads with every kind of operation ([`Options::default`]).
pub fn any_workload() -> impl Strategy<Value = Workload> {
    workload_strategy(Options::default())
}
