//! A hot team for the threaded backend's [`Kernels::install`](super::Kernels::install): while a
//! forward pass or a training step runs on one pool worker (the leader), the other workers wait
//! for its parallel loops by spinning on one shared slot, and the leader spins for theirs. No
//! one sleeps between the ~40 sections of a forward pass, as OpenMP's teams do not.
//!
//! rayon's own fork-join sleeps: a worker waiting for the other half of a join spins a few dozen
//! rounds (microseconds in wasm, where `yield_now` is a no-op) and then blocks, and waking it
//! costs 0.1-1 ms on these VMs, more than most of a forward pass's sections take.
//!
//! Protocol: the leader publishes a [`Job`] (on its stack) in [`Team::job`]; helpers register
//! in [`Team::active`] before they look at the slot and leave it after; every index of the loop
//! is claimed once from [`Job::next`] and counted in [`Job::done`] when it has run. The leader
//! runs indices too, waits until all `n` are done, empties the slot, and waits until no helper
//! is active before the job leaves its stack. (Sequentially consistent: a helper that saw the
//! job registered before it looked, so the leader waits for it; one that looked after the slot
//! was emptied saw nothing.)

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// One parallel loop: `task(i)` for `i` in `0..n`.
struct Job<'a> {
    task: &'a (dyn Fn(usize) + Sync),
    n: usize,
    /// The next index to claim.
    next: AtomicUsize,
    /// Indices that have run (or unwound).
    done: AtomicUsize,
}

impl Job<'_> {
    /// Claims and runs indices until none are left.
    fn work(&self) {
        /// Counts an index as done even if its task unwinds, so the leader never waits forever.
        struct Count<'a>(&'a AtomicUsize);
        impl Drop for Count<'_> {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::Release);
            }
        }
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.n {
                return;
            }
            let _count = Count(&self.done);
            let _in_task = InTask::enter();
            (self.task)(i);
        }
    }
}

/// The workers of one `install`.
pub(crate) struct Team {
    /// The loop being run, null between loops. Points into the leader's stack.
    job: AtomicPtr<Job<'static>>,
    /// Helpers that may be looking at `job`.
    active: AtomicUsize,
    /// Set when the leader's work is over: the helpers return.
    finished: AtomicBool,
}

thread_local! {
    /// The team this thread leads, while it leads one.
    static LEADING: Cell<*const Team> = const { Cell::new(ptr::null()) };
    /// Whether this thread is inside a team's task (a parallel loop there runs in order).
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
}

/// Leaves a team's `active` count when dropped.
struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Marks this thread as inside a task until dropped.
struct InTask(bool);

impl InTask {
    fn enter() -> Self {
        InTask(IN_TASK.with(|t| t.replace(true)))
    }
}

impl Drop for InTask {
    fn drop(&mut self) {
        IN_TASK.with(|t| t.set(self.0));
    }
}

impl Team {
    pub(crate) fn new() -> Self {
        Team { job: AtomicPtr::new(ptr::null_mut()), active: AtomicUsize::new(0), finished: AtomicBool::new(false) }
    }

    /// Runs `f` on this thread as the team's leader: [`run_loop`] inside it hands loops to the
    /// team. The helpers are released when `f` returns or unwinds.
    pub(crate) fn lead<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Release<'a>(&'a Team, *const Team);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                LEADING.with(|l| l.set(self.1));
                self.0.finished.store(true, Ordering::Release);
            }
        }
        let _release = Release(self, LEADING.with(|l| l.replace(self)));
        f()
    }

    /// A helper's life: waits for loops and works on them until the leader is finished.
    pub(crate) fn help(&self) {
        while !self.finished.load(Ordering::Acquire) {
            if self.job.load(Ordering::Relaxed).is_null() {
                std::hint::spin_loop();
                continue;
            }
            self.active.fetch_add(1, Ordering::SeqCst);
            // Leaves `active` also if a task unwinds, so the leader is not left waiting.
            let _leave = Leave(&self.active);
            let job = self.job.load(Ordering::SeqCst);
            if !job.is_null() {
                // SAFETY: registered in `active` before loading the pointer, so the leader keeps
                // the job alive until this helper leaves (see the module docs).
                unsafe { (*job).work() };
            }
        }
    }

    /// Runs the loop with the team: the leader's part, then waits for the helpers' parts.
    fn run(&self, n: usize, task: &(dyn Fn(usize) + Sync)) {
        /// Empties the slot and waits until no helper can still be reading the job, also when
        /// the leader's own task unwinds.
        struct Retire<'a>(&'a Team);
        impl Drop for Retire<'_> {
            fn drop(&mut self) {
                self.0.job.store(ptr::null_mut(), Ordering::SeqCst);
                while self.0.active.load(Ordering::SeqCst) != 0 {
                    std::hint::spin_loop();
                }
            }
        }
        let job = Job { task, n, next: AtomicUsize::new(0), done: AtomicUsize::new(0) };
        // The 'static is a lie the Retire guard makes good: no helper reads the job after it.
        self.job.store((&job as *const Job<'_>).cast_mut().cast::<Job<'static>>(), Ordering::SeqCst);
        let _retire = Retire(self);
        job.work();
        while job.done.load(Ordering::Acquire) < n {
            std::hint::spin_loop();
        }
    }
}

/// Runs `task(i)` for `i` in `0..n` with the team this thread leads, or in order inside a team's
/// task; returns false (having run nothing) where neither applies.
pub(crate) fn run_loop(n: usize, task: &(dyn Fn(usize) + Sync)) -> bool {
    if IN_TASK.with(Cell::get) {
        (0..n).for_each(task);
        return true;
    }
    let team = LEADING.with(Cell::get);
    if team.is_null() {
        return false;
    }
    // SAFETY: LEADING is set only for the duration of `Team::lead` on this thread, which
    // borrows the team.
    unsafe { (*team).run(n, task) };
    true
}
