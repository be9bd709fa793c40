//! Numbers a scenario sets, checked once, raw → typed: each within the range that keeps a run
//! bounded, and the kernel's `limits` also at least what the booted servers need.
//!
//! The raw types hold numbers as [`Int`], of any size or sign, so the validator sees every
//! number a scenario writes and answers the same for any number out of range: -1 and 40 for a
//! priority both get "`priority` must be a whole number from 0 to 31".

use super::syntax::Step;
use super::wording::out_of_range;
use super::{ScenarioError, Validator};
use mksim_kernel::{Limits, Priority};
use mksim_servers::needs::{Need, PLAIN_MESSAGE_BYTES, ServerNeeds};
use serde::Deserialize;
use std::fmt;

/// The most capability slots a process may have.
pub const CAPABILITY_SLOTS_MAX: u64 = 65_536;
/// The most objects a process may own.
pub const OBJECTS_PER_PROCESS_MAX: u64 = 65_536;
/// The largest message: 64 KiB.
pub const MESSAGE_BYTES_MAX: u64 = 64 * 1024;
/// The most capabilities one message may carry.
pub const MESSAGE_CAPS_MAX: u64 = 64;
/// The largest memory region: 64 MiB.
pub const REGION_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// The most messages a queue may hold.
pub const QUEUE_CAPACITY_MAX: u64 = 65_536;
/// The most steps a run may take.
pub const STEP_LIMIT_MAX: u64 = 1_000_000_000;

/// The most points one item of `expect` may earn: a gradebook's sums stay far from overflowing.
pub const POINTS_MAX: u64 = 1_000_000;

/// The smallest memory budget a scenario may set, in bytes: room for a small run's log.
pub const MEMORY_LIMIT_MIN_BYTES: u64 = 1 << 16;
/// The shortest tick of the timer server. Each tick costs the timer server an interrupt, a wait
/// and two switches; with a shorter period than that it never catches up and the run livelocks
/// until the step limit. Measured, the shortest period that still lets a `TimerWait(3)` finish
/// is 151 cycles under sel4, 121 under l4, 301 under minix3, 1,006 under mach3 and 1,251
/// under the monolithic profile: 10,000 leaves room for costlier profiles, and is still a
/// tick of a few microseconds on a real processor, far faster than any system timer.
pub const TIMER_PERIOD_MIN_CYCLES: u64 = 10_000;

/// A whole number as a scenario writes it, of any size or sign; or a number with a fraction.
/// Code makes one of a `u64` (`10.into()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int {
    /// A whole number (a huge one saturates, which is just as far out of any range).
    Whole(i128),
    /// Not a whole number.
    Fraction,
}

impl Int {
    /// The number, if it is whole and within `min..=max`.
    pub fn within(self, min: u64, max: u64) -> Option<u64> {
        match self {
            Int::Whole(value) => u64::try_from(value).ok().filter(|value| (min..=max).contains(value)),
            Int::Fraction => None,
        }
    }

    /// True when it is a number below `min` (a fraction is not below anything).
    fn below(self, min: u64) -> bool {
        matches!(self, Int::Whole(value) if value < i128::from(min))
    }

    fn above(self, max: u64) -> bool {
        matches!(self, Int::Whole(value) if value > i128::from(max))
    }
}

impl From<u64> for Int {
    fn from(value: u64) -> Int {
        Int::Whole(value.into())
    }
}

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Int, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Int;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a whole number")
            }
            fn visit_i64<E>(self, value: i64) -> Result<Int, E> {
                Ok(Int::Whole(value.into()))
            }
            fn visit_u64<E>(self, value: u64) -> Result<Int, E> {
                Ok(Int::Whole(value.into()))
            }
            fn visit_i128<E>(self, value: i128) -> Result<Int, E> {
                Ok(Int::Whole(value))
            }
            fn visit_u128<E>(self, value: u128) -> Result<Int, E> {
                Ok(Int::Whole(i128::try_from(value).unwrap_or(i128::MAX)))
            }
            fn visit_f64<E>(self, value: f64) -> Result<Int, E> {
                // `as` saturates: 1e300 is as far out of range as i128::MAX.
                Ok(if value.is_finite() && value.fract() == 0.0 { Int::Whole(value as i128) } else { Int::Fraction })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// The kernel's limits as a scenario writes them (`kernel: (limits: (...))`): each may be left
/// out (`None`) for the kernel's default.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default, rename = "Limits")]
pub struct RawLimits {
    /// The most capability slots a process has.
    pub capability_slots_max: Option<Int>,
    /// The most objects a process may own.
    pub objects_per_process_max: Option<Int>,
    /// The largest message, in bytes.
    pub message_bytes_max: Option<Int>,
    /// The most capabilities one message carries.
    pub message_caps_max: Option<Int>,
    /// The largest memory region, in bytes.
    pub region_bytes_max: Option<Int>,
    /// The most messages a queue holds.
    pub queue_capacity_max: Option<Int>,
}

/// A bound on a number, and why it is there (a sentence that follows the range).
#[derive(Clone, Debug)]
pub(super) struct Bound {
    pub value: u64,
    pub why: Option<String>,
}

impl Bound {
    pub fn plain(value: u64) -> Bound {
        Bound { value, why: None }
    }

    pub fn because(value: u64, why: impl Into<String>) -> Bound {
        Bound { value, why: Some(why.into()) }
    }

    /// The least a server needs, or `floor` when none needs more.
    fn needed(floor: u64, needs: &[Need]) -> Bound {
        match ServerNeeds::largest(needs) {
            Some(need) if need.amount > floor => {
                let server = need.server.description();
                Bound::because(need.amount, format!("{server} needs {}: {}", need.amount, need.why))
            }
            _ => Bound::plain(floor),
        }
    }
}

impl Validator<'_> {
    /// `value` (or `default` when it is not given) within `min..=max`; out of range, an error at
    /// the value (`path`) for `item`, saying the range of `field` and why the bound it
    /// crosses is there.
    pub(super) fn number(
        &self,
        value: Option<Int>,
        default: u64,
        (min, max): (Bound, Bound),
        field: &str,
        item: impl FnOnce() -> String,
        path: &[Step<'_>],
    ) -> Result<u64, ScenarioError> {
        let value = value.unwrap_or(default.into());
        if let Some(value) = value.within(min.value, max.value) {
            return Ok(value);
        }
        let mut message = out_of_range(field, min.value, max.value);
        let why = if value.below(min.value) {
            min.why
        } else if value.above(max.value) {
            max.why
        } else {
            None
        };
        if let Some(why) = why {
            message.push_str(": ");
            message.push_str(&why);
        }
        Err(self.fail(path, item(), message))
    }

    /// A priority from 0 to 31.
    pub(super) fn priority_at(
        &self,
        value: Int,
        item: impl FnOnce() -> String,
        path: &[Step<'_>],
    ) -> Result<Priority, ScenarioError> {
        let highest = u64::from(Priority::HIGHEST.level());
        let level = self.number(Some(value), 0, (Bound::plain(0), Bound::plain(highest)), "priority", item, path)?;
        Ok(Priority::new(level as u8).expect("checked against the highest level"))
    }

    /// The kernel's limits: each within what the booted servers need and what keeps a run within
    /// memory.
    pub(super) fn limits(&self, raw: &RawLimits, needs: &ServerNeeds) -> Result<Limits, ScenarioError> {
        let defaults = Limits::default();
        let memory = "a run holds it in memory";
        let field = |name: &'static str| {
            move |value: Option<Int>, default: u64, min: Bound, max: Bound| {
                let path = [Step::Field("kernel"), Step::Field("limits"), Step::Field(name)];
                self.number(value, default, (min, max), name, || format!("kernel.limits.{name}"), &path)
            }
        };
        let capability_slots_max = field("capability_slots_max")(
            raw.capability_slots_max,
            defaults.capability_slots_max as u64,
            Bound::needed(1, &needs.capability_slots),
            Bound::because(CAPABILITY_SLOTS_MAX, "every process's table of capabilities may grow that large"),
        )?;
        let objects_per_process_max = field("objects_per_process_max")(
            raw.objects_per_process_max,
            defaults.objects_per_process_max as u64,
            Bound::needed(0, &needs.objects),
            Bound::because(OBJECTS_PER_PROCESS_MAX, memory),
        )?;
        let message_bytes_max = field("message_bytes_max")(
            raw.message_bytes_max,
            defaults.message_bytes_max.into(),
            Bound::needed(PLAIN_MESSAGE_BYTES, &needs.message_bytes),
            Bound::because(MESSAGE_BYTES_MAX, "queued messages are held in memory"),
        )?;
        let message_caps_max = field("message_caps_max")(
            raw.message_caps_max,
            defaults.message_caps_max.into(),
            Bound::needed(0, &needs.message_caps),
            Bound::plain(MESSAGE_CAPS_MAX),
        )?;
        let region_bytes_max = field("region_bytes_max")(
            raw.region_bytes_max,
            defaults.region_bytes_max.into(),
            Bound::plain(0),
            Bound::because(REGION_BYTES_MAX, memory),
        )?;
        let queue_capacity_max = field("queue_capacity_max")(
            raw.queue_capacity_max,
            defaults.queue_capacity_max.into(),
            Bound::plain(1),
            Bound::because(QUEUE_CAPACITY_MAX, "queued messages are held in memory"),
        )?;
        // Every maximum above fits the kernel's types: u32 for the message, region and queue limits.
        Ok(Limits {
            capability_slots_max: capability_slots_max as usize,
            objects_per_process_max: objects_per_process_max as usize,
            message_bytes_max: message_bytes_max as u32,
            message_caps_max: message_caps_max as u32,
            region_bytes_max: region_bytes_max as u32,
            queue_capacity_max: queue_capacity_max as u32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_of_any_size_or_sign_are_kept_for_the_validator() {
        let parse = |text: &str| ron::from_str::<Int>(text).unwrap();
        assert_eq!(parse("-1"), Int::Whole(-1));
        assert_eq!(parse("40"), Int::Whole(40));
        assert_eq!(parse("18446744073709551615"), Int::Whole(u64::MAX.into()));
        assert!(matches!(parse("99999999999999999999999"), Int::Whole(value) if value > u64::MAX.into()));
        assert_eq!(parse("1.5"), Int::Fraction);
        assert_eq!(parse("1e3"), Int::Whole(1000));
        assert!(ron::from_str::<Int>("\"high\"").is_err());
        assert_eq!(Int::Whole(-1).within(0, 31), None);
        assert_eq!(Int::Whole(40).within(0, 31), None);
        assert_eq!(Int::Whole(31).within(0, 31), Some(31));
    }

    #[test]
    fn every_maximum_fits_the_kernels_types() {
        for max in [MESSAGE_BYTES_MAX, REGION_BYTES_MAX, QUEUE_CAPACITY_MAX, MESSAGE_CAPS_MAX] {
            assert!(u32::try_from(max).is_ok());
        }
        assert!(usize::try_from(CAPABILITY_SLOTS_MAX.max(OBJECTS_PER_PROCESS_MAX)).is_ok());
        let defaults = Limits::default();
        assert!(defaults.message_bytes_max as u64 <= MESSAGE_BYTES_MAX);
        assert!(defaults.region_bytes_max as u64 <= REGION_BYTES_MAX);
        assert!(defaults.queue_capacity_max as u64 <= QUEUE_CAPACITY_MAX);
        assert!(defaults.capability_slots_max as u64 <= CAPABILITY_SLOTS_MAX);
    }
}
