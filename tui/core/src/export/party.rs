//! Who a sequence diagram draws a line from or to, for both kinds of sequence diagram (Mermaid
//! and SVG): a process (every incarnation on one lane), the kernel, or a port with no owner.

use mksim_kernel::{ObjectId, ProcessId};

/// Someone a diagram line is drawn from or to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Party {
    /// A process, every incarnation on one lane.
    Process(u32),
    Kernel,
    /// A port with no owner, drawn as itself.
    Object(ObjectId),
}

/// The lane of a process (the kernel's own for the kernel).
pub(crate) fn party(id: ProcessId) -> Party {
    if id.is_kernel() { Party::Kernel } else { Party::Process(id.index) }
}
