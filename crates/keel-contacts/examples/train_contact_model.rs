//! Trains the contact matching model on generated leads and prints it as JSON; its output is
//! `data/contact-model.json`, which `dedupe::contact_model` loads.
//!
//! `cargo run --release -p keel-contacts --example train_contact_model > crates/keel-contacts/data/contact-model.json`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = keel_contacts::dedupe::train_contact_model()?;
    println!("{}", serde_json::to_string_pretty(&model)?);
    Ok(())
}
