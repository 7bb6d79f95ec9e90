//! Opening one sealed value in-process with an X25519 identity (goal: well under 1 ms), beside
//! age's own decryption of the same ciphertext, which is the floor sealctl builds on.
//!
//!     cargo bench -p sealctl-seal --bench open

use std::hint::black_box;
use std::io::Read as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sealctl_profile::sealed::SealedValue;
use sealctl_seal::{Endpoint, Identities, IdentitySource, Place, Recipient, open, seal};
use secrecy::{ExposeSecret as _, SecretString};

const RUNS: usize = 2000;

fn measure(name: &str, mut run: impl FnMut()) {
    for _ in 0..100 {
        run();
    }
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "| {name} | {:.1} | {:.1} | {:.1} |",
        micros(times[RUNS / 2]),
        micros(times[RUNS * 99 / 100]),
        micros(times[0])
    );
}

fn main() {
    let identity = age::x25519::Identity::generate();
    let recipient = Recipient::X25519(identity.to_public());
    let text = SecretString::from(identity.to_string().expose_secret().to_owned());
    let identities = Identities::load(vec![IdentitySource::Environment(text)]).unwrap();
    let place = Place::new("prod", "mgmt_token");
    let endpoint = Endpoint::from_fields(|key| match key {
        "product" => Some("clustered"),
        "host" => Some("prod.example.com"),
        _ => None,
    });
    let token = SecretString::from("apiv3_".to_owned() + &"x".repeat(90));
    let value = seal(&token, &place, &endpoint, &[recipient], None).unwrap();
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(SealedValue::parse(&value).unwrap().payload)
        .unwrap();

    println!("| in-process, {RUNS} runs | median µs | p99 µs | min µs |");
    println!("| --- | ---: | ---: | ---: |");
    measure(
        "sealctl_seal::open (framing, base64, age, envelope, binding)",
        || {
            black_box(open(black_box(&value), &place, &endpoint, &identities).unwrap());
        },
    );
    measure("age::Decryptor alone, same ciphertext", || {
        let decryptor = age::Decryptor::new(black_box(&ciphertext[..])).unwrap();
        let mut reader = decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .unwrap();
        let mut plaintext = Vec::new();
        reader.read_to_end(&mut plaintext).unwrap();
        black_box(plaintext);
    });
}
