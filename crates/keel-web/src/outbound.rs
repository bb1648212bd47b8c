//! Outbound HTTP: the one way Keel posts JSON to another system (webhooks, erasure requests to
//! connected systems), so timeouts and the meaning of an error status are the same everywhere.

use std::time::Duration;

/// POSTs `body` as `application/json` to `url`, off the async runtime. Any non-2xx answer or
/// network failure is an error naming the URL, so the job runner retries with backoff.
pub async fn post_json(url: String, body: String, timeout: Duration) -> Result<(), String> {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(true)
            .build()
            .into();
        agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body)
            .map(|_| ())
            .map_err(|e| format!("POST {url}: {e}"))
    })
    .await
    .map_err(|e| e.to_string())?
}
