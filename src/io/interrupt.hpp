// SIGINT, SIGTERM and SIGHUP: what an interrupted run leaves behind.
//
// Design (and why): the CLI blocks these signals in every thread and one
// watcher thread takes them with sigwait(), so no code runs in signal
// context at all (nothing to keep async-signal-safe) and the compute loops
// need no cancellation checks (no cost in the hot loops, and an interrupt
// is honoured at once even inside a long GPU kernel, an OpenMP region or a
// child process).  The watcher kills and reaps the registered child
// processes, removes the registered temporary paths, prints one line and
// _exit()s with 128 + the signal number (130, 143, 129).  Committed outputs
// and files that were there before are never registered, so they stay.
//
// Registration and creation happen as one step under the registry's lock,
// so an interrupt can never fall between "made a temporary" and "knows
// about it".  The final renames of a run hold the commit lock: an
// interrupt that arrives then waits for them, so the outputs are either
// all in place or none (the exit status is still 128 + signal).
#pragma once

#include <sys/types.h>

#include <functional>
#include <mutex>
#include <string>

namespace archetype::interrupt {

/// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (so in every
/// thread created afterwards) and starts the watcher.  Call first in main().
/// A signal the process was started with ignored (nohup, a background job
/// of a script) stays ignored.  Also registers an exit handler: a library
/// that calls exit() in the middle of a run (libgomp when it cannot create
/// a thread) gets the same cleanup as an interrupt, with one line saying
/// so, and keeps its exit status.
void install();

/// From now on a signal still cleans up and exits, but prints no line: a
/// process of a split job (mpirun) other than rank 0, or any rank whose
/// work is done, when mpirun ends the job (it says why itself).  With
/// linger_ms, the exit waits that long after the cleanup: mpirun sends
/// SIGTERM to every process, then SIGKILL as soon as one has ended, so the
/// ranks without outputs leave last and rank 0 has time to remove its
/// staging folder.
void quiet(int linger_ms = 0);

enum class Removal {
  Everything,  ///< a temporary file or a private staging folder: removed with its contents
  IfEmpty,     ///< a folder the run created: removed only when empty
};

/// Runs `create` (which makes `path`) and registers `path` for removal on
/// an interrupt, as one step.  If `create` throws, nothing is registered.
void track(const std::string& path, Removal how, const std::function<void()>& create);
/// Like track(), but `create` says whether it made `path`: registered only
/// when it returns true (a lock taken, not one that someone else holds).
bool track_if(const std::string& path, Removal how, const std::function<bool()>& create);
/// Forgets `path` (committed, or already removed).
void untrack(const std::string& path);
/// Forgets `path` and runs `remove` (which removes it) as one step, so an
/// interrupt can never remove a path of the same name made after `remove`
/// (a lock file that another run creates as soon as this one lets go).
void forget(const std::string& path, const std::function<void()>& remove);

/// Starts a child with `spawn` (returns its pid, or -1) and registers it
/// to be killed and reaped on an interrupt, as one step.
pid_t track_child(const std::function<pid_t()>& spawn);
/// Waits for a tracked child to end, then forgets and reaps it as one step
/// (so the watcher never signals a reaped, possibly reused, pid); returns
/// the waitpid() status, or -1 when the watcher reaped it first.
int wait_child(pid_t pid);

/// Kills the registered children and removes the registered temporaries
/// now, as an interrupt would, without exiting: for a run that ends in
/// std::terminate (an exception that could not be caught, such as out of
/// memory inside an OpenMP region).  Returns whether there was anything;
/// does nothing when the registry is busy (never deadlocks).
bool clean_up_now();

/// Held while staged outputs are renamed into place.
std::unique_lock<std::mutex> commit_lock();

}  // namespace archetype::interrupt
