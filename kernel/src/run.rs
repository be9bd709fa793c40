//! The run loop: one step at a time, choose the next process (priority, then
//! FIFO, with preemption at the end of a time slice), switch to it, and poll its
//! program until its next syscall; fire due timers; jump over idle time; end
//! the run when the programs are done or nothing can run any more.

use crate::error::{FaultReason, SysError};
use crate::event::EventKind;
use crate::ids::ProcessId;
use crate::kernel::Kernel;
use crate::outcome::Outcome;
use crate::process::ProcessState;
use crate::syscall::{SyscallKind, SyscallValue};
use crate::time::TimerAction;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::{Context, Poll, Waker};

impl Kernel {
    /// Runs until the run ends, and returns how it ended.
    pub fn run(&mut self) -> &Outcome {
        while self.step() {}
        self.outcome.as_ref().expect("the loop ends only with an outcome")
    }

    /// Carries out one step: one syscall, one compute slice, or one jump over idle time.
    /// Returns false once the run has ended.
    pub fn step(&mut self) -> bool {
        if self.outcome.is_some() {
            return false;
        }
        // One comparison for both bounds: the threshold is the step limit or the next look at the memory.
        if self.steps >= self.check_at_step && !self.check_bounds() {
            return false;
        }
        self.steps += 1;
        // Most steps have no timer armed at all: then there is nothing to fire.
        if !self.timers.is_empty() {
            self.fire_due_timers();
            if self.outcome.is_some() {
                // A fault injected at this moment panicked the kernel.
                return false;
            }
        }
        if self.steps == 1 {
            self.begin_run();
        }
        match self.choose_next() {
            Some(process) => {
                self.switch_to(process);
                if self.process(process).compute_remaining_cycles > 0 {
                    self.compute_slice(process);
                } else {
                    self.poll(process);
                }
            }
            None => self.idle_or_end(),
        }
        self.outcome.is_none()
    }

    fn choose_next(&mut self) -> Option<ProcessId> {
        let Some(current) = self.current.filter(|&id| self.process(id).state == ProcessState::Running) else {
            self.current = None;
            return self.run_queue.pop_best();
        };
        let priority = self.process(current).effective_priority;
        let Some(best) = self.run_queue.best_priority() else {
            self.process_mut(current).slice_used_cycles = 0;
            return Some(current);
        };
        let slice_spent = self.process(current).slice_used_cycles >= self.config.timeslice_cycles;
        if best.is_more_important_than(priority) {
            self.process_mut(current).preempt();
            self.run_queue.push_front(current, priority);
            return self.run_queue.pop_best();
        }
        if best == priority && slice_spent {
            self.process_mut(current).preempt();
            self.run_queue.push_back(current, priority);
            return self.run_queue.pop_best();
        }
        if slice_spent {
            self.process_mut(current).slice_used_cycles = 0;
        }
        Some(current)
    }

    fn switch_to(&mut self, next: ProcessId) {
        let handoff = self.handoff.take();
        if self.current != Some(next) {
            let direct = handoff == Some(next);
            if !direct {
                let cycles = self.config.profile.context_switch_cycles;
                self.charge(next, cycles);
            }
            let process = self.process_mut(next);
            process.counters.context_switches += 1;
            process.slice_used_cycles = 0;
            self.emit(next, EventKind::Switched { direct });
        }
        self.current = Some(next);
        self.process_mut(next).run();
    }

    fn compute_slice(&mut self, id: ProcessId) {
        let process = self.process(id);
        let slice_left_cycles = self.config.timeslice_cycles.saturating_sub(process.slice_used_cycles).max(1);
        // With no timer armed, nothing but the slice and the work itself bounds this slice.
        let until_timer_cycles = self
            .timers
            .next_deadline_cycles()
            .map_or(u64::MAX, |deadline_cycles| deadline_cycles.saturating_sub(self.now_cycles).max(1));
        let cycles = process.compute_remaining_cycles.min(slice_left_cycles).min(until_timer_cycles);
        self.charge(id, cycles);
        self.process_mut(id).compute_remaining_cycles -= cycles;
        self.emit(id, EventKind::Computed { cycles });
        if self.process(id).compute_remaining_cycles == 0 {
            self.finish_syscall(id, SyscallKind::Compute, Ok(SyscallValue::Unit));
        }
    }

    fn poll(&mut self, id: ProcessId) {
        if self.poll_once(id) {
            self.poll_after_steps(id);
        }
    }

    /// Polls the program again, within this step, after each step it takes without a syscall:
    /// nothing else runs in between, so the schedule is what it would have been without them.
    #[cold]
    #[inline(never)]
    fn poll_after_steps(&mut self, id: ProcessId) {
        while self.take_program_step() && self.poll_once(id) {}
    }

    /// Polls a program once; returns true when it took a step without a syscall ([`Sys::take_step`]).
    #[inline(always)]
    fn poll_once(&mut self, id: ProcessId) -> bool {
        let now_cycles = self.now_cycles;
        let process = self.process_mut(id);
        process.trap.now_cycles.set(now_cycles);
        // Polled where it lives: a program never reaches the kernel while it runs, and one that
        // ends or panics is dropped by `terminate`, as it would be when taken out for the poll.
        let Some(program) = process.program.as_mut() else {
            panic!("kernel bug: running process {id} has no program");
        };
        let mut context = Context::from_waker(Waker::noop());
        let polled = catch_unwind(AssertUnwindSafe(|| program.as_mut().poll(&mut context)));
        self.log_annotations(id);
        match polled {
            Err(panic) => {
                let detail = panic_message(panic.as_ref());
                self.process_mut(id).fault_detail = Some(detail);
                self.terminate(id, ProcessState::Faulted { reason: FaultReason::Panicked });
            }
            Ok(Poll::Ready(Ok(code))) => self.terminate(id, ProcessState::Exited { code }),
            Ok(Poll::Ready(Err(fault))) => {
                if let crate::error::ProgramFault::Failed { detail, .. }
                | crate::error::ProgramFault::Injected(detail) = &fault
                {
                    self.process_mut(id).fault_detail = Some(detail.clone());
                }
                self.terminate(id, ProcessState::Faulted { reason: fault.reason() });
            }
            Ok(Poll::Pending) => {
                let request = self.process(id).trap.request.take();
                match request {
                    Some(request) => self.execute(id, request),
                    None if self.process(id).trap.stepped.replace(false) => return true,
                    None => self.terminate(id, ProcessState::Faulted { reason: FaultReason::NotASyscall }),
                }
            }
        }
        false
    }

    /// Counts a step a program took without a syscall ([`Sys::take_step`]); returns false when
    /// the step limit ended the run instead.
    #[cold]
    fn take_program_step(&mut self) -> bool {
        if self.steps >= self.config.step_limit {
            self.end(Outcome::StepLimit { limit: self.config.step_limit });
            return false;
        }
        self.steps += 1;
        true
    }

    /// Logs the operation markers a program left in its trap during the last poll.
    #[inline(always)]
    fn log_annotations(&mut self, id: ProcessId) {
        // Most polls leave none: then this test is all it costs.
        if self.process(id).trap.annotated.replace(false) {
            self.log_annotations_left(id);
        }
    }

    fn log_annotations_left(&mut self, id: ProcessId) {
        let trap = &self.process(id).trap;
        let mut annotations = trap.annotations.take();
        // Summaries are taken only when a marker asks, so the usual markers cost what they did.
        let mut states = None;
        // Markers are plain values: reading them and then clearing the list costs nothing when there
        // are none, as after most polls, where a draining iterator still has to be set up and dropped.
        for &annotation in &annotations {
            let kind = match annotation {
                crate::sys::Annotation::Began { label } => {
                    self.process_mut(id).current_operation = Some(label);
                    EventKind::OperationBegan { label }
                }
                crate::sys::Annotation::Ended { label, failed } => {
                    self.process_mut(id).current_operation = None;
                    EventKind::OperationEnded { label, failed }
                }
                crate::sys::Annotation::Retried { label } => EventKind::OperationRetried { label },
                crate::sys::Annotation::Fault { fault } => EventKind::FaultInjected { fault },
                crate::sys::Annotation::ScriptLine { line } => EventKind::ScriptLine { line },
                crate::sys::Annotation::ServiceState => {
                    let states = states.get_or_insert_with(|| self.process(id).trap.service_states.take().into_iter());
                    let Some((module, summary)) = states.next() else { continue };
                    match self.log.record_service_state(module, &summary) {
                        Some(state) => EventKind::ServiceState { module, state },
                        None => continue,
                    }
                }
            };
            self.emit(id, kind);
        }
        annotations.clear();
        // The emptied list goes back, so a program that annotates every operation does not allocate every time.
        self.process(id).trap.annotations.set(annotations);
    }

    fn idle_or_end(&mut self) {
        if self.programs_alive == 0 {
            self.end(Outcome::Completed);
            return;
        }
        match self.timers.next_deadline_cycles() {
            Some(deadline_cycles) => {
                let until_cycles = deadline_cycles.max(self.now_cycles);
                self.kernel_cycles = self.kernel_cycles.saturating_add(until_cycles - self.now_cycles);
                self.now_cycles = until_cycles;
                self.emit(ProcessId::KERNEL, EventKind::Idle { until: until_cycles });
            }
            None => {
                let report = self.deadlock_report();
                self.end(Outcome::Deadlock(report));
            }
        }
    }

    pub(crate) fn end(&mut self, outcome: Outcome) {
        debug_assert_eq!(self.in_flight_bytes, self.count_in_flight_bytes(), "kernel bug: in-flight bytes drifted");
        self.emit(ProcessId::KERNEL, EventKind::RunEnded { outcome: outcome.kind() });
        self.outcome = Some(outcome);
    }

    fn fire_due_timers(&mut self) {
        // Only what was due when the step began: interrupts charged here move time on, and timers
        // that become due meanwhile wait for the next step, so a step always ends.
        let due_by_cycles = self.now_cycles;
        while self.outcome.is_none()
            && let Some((deadline_cycles, action)) = self.timers.pop_due(due_by_cycles)
        {
            match action {
                TimerAction::Wake(id) => self.timer_expired(id),
                TimerAction::Inject { which } => self.inject_scheduled(which),
                TimerAction::Interrupt { notification, bits, period_cycles, owner } => {
                    if !self.is_alive(owner) || self.objects.get(notification).is_none() {
                        continue;
                    }
                    self.interrupt(notification, bits);
                    if let Some(period) = period_cycles {
                        let next = next_tick(deadline_cycles, period, self.now_cycles);
                        // At the end of virtual time (u64::MAX) there is no next tick to wait for.
                        if next > self.now_cycles {
                            let action = TimerAction::Interrupt { notification, bits, period_cycles, owner };
                            self.timers.insert(next, action);
                        }
                    }
                }
            }
        }
    }

    fn timer_expired(&mut self, id: ProcessId) {
        self.process_mut(id).timer = None;
        match self.process(id).state {
            ProcessState::Sleeping { .. } => self.wake(id, Ok(SyscallValue::Unit)),
            ProcessState::InKernel { .. } => self.wake(id, Ok(SyscallValue::Unit)),
            state if state.is_blocked() => {
                self.cancel_wait(id, crate::event::DropReason::TimedOut);
                self.wake(id, Err(SysError::TimedOut));
                if let Some(waited_for) = state.waits_for() {
                    self.refresh_priority(waited_for);
                }
            }
            _ => {}
        }
    }
}

/// The next deadline of a periodic timer: one period after the last, so the
/// interrupt's own cost does not make it drift; ticks that passed while the
/// kernel was busy coalesce into one, as a device's pending interrupt would.
fn next_tick(deadline_cycles: u64, period_cycles: u64, now_cycles: u64) -> u64 {
    let next = deadline_cycles.saturating_add(period_cycles);
    if next > now_cycles {
        return next;
    }
    let missed = (now_cycles - next) / period_cycles + 1;
    next.saturating_add(missed.saturating_mul(period_cycles))
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-text payload".to_owned()
    }
}
