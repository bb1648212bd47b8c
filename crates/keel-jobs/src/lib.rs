//! The one job runner of Keel.
//!
//! Jobs are rows in the same database as everything else (see `keel_store::jobs`), so enqueueing
//! a job can be part of the transaction that made it necessary, and a restart loses nothing: a job
//! claimed by a process that died is claimed again once its lease runs out. Handlers are plain
//! async functions registered by kind; failures are retried with exponential backoff, and a job
//! that keeps failing ends as `failed` with its last error, visible in the UI and the API.

use chrono::Duration;
use keel_store::Store;
use keel_store::jobs::{self, Job};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{Notify, watch};

/// Errors of the runner itself (a failing handler is not an error of the runner).
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] keel_store::StoreError),
}

/// What a handler gets: the store and the job being run.
#[derive(Debug, Clone)]
pub struct JobContext {
    /// The database.
    pub store: Store,
    /// The job, including its payload and attempt number.
    pub job: Job,
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Handler = Arc<dyn Fn(JobContext) -> BoxFuture + Send + Sync>;

/// What happened to a job in one pass of the runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The handler succeeded.
    Succeeded(i64),
    /// The handler failed and the job will run again later.
    Retrying(i64),
    /// The handler failed for the last time (or no handler exists).
    Failed(i64),
}

/// Registers handlers and runs due jobs.
pub struct Runner {
    store: Store,
    handlers: HashMap<String, Handler>,
    name: String,
    poll_every: std::time::Duration,
    lease: Duration,
    wake: Arc<Notify>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kinds: Vec<&String> = self.handlers.keys().collect();
        kinds.sort();
        f.debug_struct("Runner")
            .field("name", &self.name)
            .field("kinds", &kinds)
            .finish()
    }
}

/// The delay before retry number `attempt` (1-based): 10 s, 20 s, 40 s … capped at one hour.
pub fn backoff(attempt: i64) -> Duration {
    let exp = attempt.clamp(1, 20) - 1;
    let secs = 10i64.saturating_mul(1i64 << exp);
    Duration::seconds(secs.min(3600))
}

impl Runner {
    /// A runner on `store` with no handlers yet.
    pub fn new(store: Store) -> Self {
        Runner {
            store,
            handlers: HashMap::new(),
            name: format!("runner-{}", std::process::id()),
            poll_every: std::time::Duration::from_millis(500),
            lease: Duration::minutes(10),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Sets how often the queue is polled when idle.
    pub fn poll_every(mut self, every: std::time::Duration) -> Self {
        self.poll_every = every;
        self
    }

    /// Sets how long a claimed job is held before another runner may take it over.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Registers the handler for a kind of job.
    pub fn register<F, Fut>(&mut self, kind: &str, handler: F)
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.handlers.insert(
            kind.to_string(),
            Arc::new(move |ctx| Box::pin(handler(ctx))),
        );
    }

    /// The kinds this runner knows.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.handlers.keys().cloned().collect();
        kinds.sort();
        kinds
    }

    /// A handle that wakes the runner at once (e.g. right after enqueueing).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Enqueues due schedules, then claims and runs at most one job.
    pub async fn run_once(&self) -> Result<Option<Outcome>, RunnerError> {
        jobs::enqueue_due_schedules(&self.store).await?;
        let Some(job) = jobs::claim_next(&self.store, &self.name, self.lease).await? else {
            return Ok(None);
        };
        let id = job.id;
        let attempts = job.attempts;
        let max_attempts = job.max_attempts;
        let result = match self.handlers.get(&job.kind) {
            Some(handler) => {
                let ctx = JobContext {
                    store: self.store.clone(),
                    job,
                };
                // Run in its own task so a panicking handler fails its job, not the runner.
                match tokio::spawn(handler(ctx)).await {
                    Ok(r) => r,
                    Err(e) => Err(format!("handler panicked: {e}")),
                }
            }
            None => {
                let message = format!("no handler is registered for job kind `{}`", job.kind);
                jobs::fail(&self.store, id, &message, None).await?;
                return Ok(Some(Outcome::Failed(id)));
            }
        };
        match result {
            Ok(()) => {
                jobs::succeed(&self.store, id).await?;
                Ok(Some(Outcome::Succeeded(id)))
            }
            Err(message) if attempts < max_attempts => {
                tracing::warn!(job = id, attempts, "job failed, will retry: {message}");
                jobs::fail(
                    &self.store,
                    id,
                    &message,
                    Some(keel_store::now() + backoff(attempts)),
                )
                .await?;
                Ok(Some(Outcome::Retrying(id)))
            }
            Err(message) => {
                tracing::error!(job = id, attempts, "job failed for good: {message}");
                jobs::fail(&self.store, id, &message, None).await?;
                Ok(Some(Outcome::Failed(id)))
            }
        }
    }

    /// Runs jobs until `shutdown` turns true; returns when the current job (if any) is done.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            match self.run_once().await {
                Ok(Some(_)) => continue,
                Ok(None) => {}
                Err(e) => tracing::error!("job runner: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll_every) => {}
                _ = self.wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::seconds(10));
        assert_eq!(backoff(2), Duration::seconds(20));
        assert_eq!(backoff(4), Duration::seconds(80));
        assert_eq!(backoff(30), Duration::seconds(3600));
        assert_eq!(backoff(0), Duration::seconds(10));
    }
}
