//! A hot team for the threaded backend's [`Kernels::install`](super::Kernels::install): while a
//! forward pass or a training step runs on one pool worker (the leader), the other workers wait
//! for its parallel loops on one shared slot, and the leader waits for theirs. A waiting thread
//! spins first ([`SPINS`] rounds, ~0.1 ms) and only then blocks, so between the ~40 sections of a
//! forward pass no one sleeps, as in OpenMP's teams (whose threads spin a while, then block).
//!
//! rayon's own fork-join sleeps sooner: a worker waiting for the other half of a join spins a few
//! dozen rounds (microseconds in wasm, where `yield_now` is a no-op) and then blocks, and waking
//! it costs 0.1-1 ms on these VMs, more than most of a forward pass's sections take.
//!
//! Spinning without end is no better: where other programs want the cores too, a spinning thread
//! takes CPU time from the one it waits for, and every loop waits for its slowest member. On the
//! 2-core VM, with a compiler running beside the page, the threaded 1 × 128 forward took 34.7 ms
//! against 9.1 on one thread while the team only spun; a thread that blocks gives its core up
//! (figures with and without blocking at [`SPINS`]).
//!
//! Protocol: the leader publishes a [`Job`] (on its stack) in [`Team::job`] and bumps
//! [`Team::epoch`]; helpers register in [`Team::active`] before they look at the slot and leave it
//! after; every index of the loop is claimed once from [`Job::next`] and counted in [`Job::done`]
//! when it has run. The leader runs indices too, waits until all `n` are done, empties the slot,
//! and waits until no helper is active before the job leaves its stack. (Sequentially consistent:
//! a helper that saw the job registered before it looked, so the leader waits for it; one that
//! looked after the slot was emptied saw nothing.) Blocking: a waiter counts itself in
//! [`Team::sleepers`] and then checks its condition under [`Team::lock`]; whoever changes what
//! someone may wait for (a job published, the last index done, the last helper gone, the team
//! finished) checks `sleepers` after the change and, if anyone is there, notifies under the lock.
//! One of the two sees the other (both are SeqCst), and the lock closes the gap between a
//! waiter's last check and its sleep.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

/// Rounds a waiting thread spins before it blocks. Natively a round is a `pause` (2^13 rounds:
/// ~95 µs on this project's Xeon, which pauses ~12 ns). In wasm `spin_loop` is a no-op and a
/// round is two atomic loads; the count was set by the threaded 1 × 128 forward in Chromium on the
/// 2-core VM: at 2^16 rounds the helpers fell asleep between its loops (10.5-20 ms against 10.2
/// for a team that never sleeps), at 2^18 they did not (9.3-11 ms). With two busy processes
/// beside it, the same forward took 17-22 ms with 2^18, and 9-49 ms with the team that never
/// sleeps (one thread alone gets ~2/3 of a core then: ~14-18 ms).
#[cfg(target_arch = "wasm32")]
const SPINS: u32 = 1 << 18;
#[cfg(not(target_arch = "wasm32"))]
const SPINS: u32 = 1 << 13;

/// One parallel loop: `task(i)` for `i` in `0..n`.
struct Job<'a> {
    team: &'a Team,
    task: &'a (dyn Fn(usize) + Sync),
    n: usize,
    /// The next index to claim.
    next: AtomicUsize,
    /// Indices that have run (or unwound).
    done: AtomicUsize,
    /// Set when a task unwound: the leader then panics after the loop instead of carrying on
    /// with an index that never ran (a helper's panic would otherwise surface only when the
    /// whole install ends, after, say, an optimizer step on incomplete gradients).
    failed: AtomicBool,
}

impl Job<'_> {
    /// Claims and runs indices until none are left.
    fn work(&self) {
        /// Counts an index as done even if its task unwinds, so the leader never waits forever;
        /// the last one wakes the leader if it sleeps.
        struct Count<'a, 'b>(&'a Job<'b>);
        impl Drop for Count<'_, '_> {
            fn drop(&mut self) {
                // The job outlives this: the leader waits for `done` and then for `active`.
                let Job { team, n, .. } = *self.0;
                if std::thread::panicking() {
                    self.0.failed.store(true, Ordering::SeqCst);
                }
                if self.0.done.fetch_add(1, Ordering::SeqCst) + 1 == n {
                    team.notify();
                }
            }
        }
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.n {
                return;
            }
            let _count = Count(self);
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
    /// Jobs published so far: a helper waits for one it has not seen.
    epoch: AtomicUsize,
    /// Threads blocked in [`Team::wait_until`], or about to be.
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

thread_local! {
    /// The team this thread leads, while it leads one.
    static LEADING: Cell<*const Team> = const { Cell::new(ptr::null()) };
    /// Whether this thread is inside a team's task (a parallel loop there runs in order).
    static IN_TASK: Cell<bool> = const { Cell::new(false) };
}

/// Leaves a team's `active` count when dropped; the last to leave wakes the leader if it sleeps.
struct Leave<'a>(&'a Team);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.notify();
        }
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
        Team {
            job: AtomicPtr::new(ptr::null_mut()),
            active: AtomicUsize::new(0),
            finished: AtomicBool::new(false),
            epoch: AtomicUsize::new(0),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
        }
    }

    /// Returns once `ready()` holds: spins [`SPINS`] rounds, then blocks until a [`Team::notify`].
    /// `ready` must read with SeqCst what the notifier changes.
    fn wait_until(&self, ready: impl Fn() -> bool) {
        for _ in 0..SPINS {
            if ready() {
                return;
            }
            std::hint::spin_loop();
        }
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        let mut guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        while !ready() {
            guard = self.wake.wait(guard).unwrap_or_else(PoisonError::into_inner);
        }
        drop(guard);
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Wakes the blocked waiters, if any: called after a SeqCst change to what they wait for.
    /// Costs one load when no one sleeps.
    fn notify(&self) {
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.wake.notify_all();
        }
    }

    /// Runs `f` on this thread as the team's leader: [`run_loop`] inside it hands loops to the
    /// team. The helpers are released when `f` returns or unwinds.
    pub(crate) fn lead<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Release<'a>(&'a Team, *const Team);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                LEADING.with(|l| l.set(self.1));
                self.0.finished.store(true, Ordering::SeqCst);
                self.0.notify();
            }
        }
        let _release = Release(self, LEADING.with(|l| l.replace(self)));
        f()
    }

    /// A helper's life: waits for loops and works on them until the leader is finished.
    pub(crate) fn help(&self) {
        let mut seen = 0;
        loop {
            self.wait_until(|| self.finished.load(Ordering::SeqCst) || self.epoch.load(Ordering::SeqCst) != seen);
            if self.finished.load(Ordering::SeqCst) {
                return;
            }
            seen = self.epoch.load(Ordering::SeqCst);
            self.active.fetch_add(1, Ordering::SeqCst);
            // Leaves `active` also if a task unwinds, so the leader is not left waiting.
            let _leave = Leave(self);
            // The job of epoch `seen` or a later one, or none if it is already over.
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
                self.0.wait_until(|| self.0.active.load(Ordering::SeqCst) == 0);
            }
        }
        let job = Job { team: self, task, n, next: AtomicUsize::new(0), done: AtomicUsize::new(0), failed: AtomicBool::new(false) };
        // The 'static is a lie the Retire guard makes good: no helper reads the job after it.
        self.job.store((&job as *const Job<'_>).cast_mut().cast::<Job<'static>>(), Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.notify();
        let _retire = Retire(self);
        job.work();
        self.wait_until(|| job.done.load(Ordering::SeqCst) >= n);
        if job.failed.load(Ordering::SeqCst) {
            panic!("a task of a parallel loop panicked on another thread (its message is printed above)");
        }
    }
}

/// Whether a parallel loop started here goes to a team: this thread leads one and is not inside
/// one of its tasks. Splitting is cheap then (the team is awake), so smaller work pays.
pub(crate) fn loops_go_to_team() -> bool {
    !IN_TASK.with(Cell::get) && !LEADING.with(Cell::get).is_null()
}

/// Whether this thread is part of a team's work: leading one, or running one of its tasks.
pub(crate) fn inside() -> bool {
    IN_TASK.with(Cell::get) || !LEADING.with(Cell::get).is_null()
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
