//! Writes the hostile-container corpus of issue 13 into a directory, one
//! file per case (`tests/suite/common/hostile.rs`, the same code the
//! regression tests use), plus two large inputs at the caps: a container
//! whose members fill the 64 MiB total (accepted by the container reader,
//! then refused for its missing envelope) and one whose second member breaks
//! the total cap. `scripts/bench-hostile.sh` times `audit` on each.
//! Usage: cargo run --release --example hostile_corpus -- DIR

#[path = "../tests/suite/common/hostile.rs"]
mod hostile;

use std::collections::BTreeMap;

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: hostile_corpus DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    for c in hostile::cases() {
        std::fs::write(dir.join(format!("{}.zip", c.name)), &c.bytes).unwrap();
    }
    // At the caps: 31 MiB of incompressible bytes (STORED) and 31 MiB of
    // text (DEFLATE), plus a third member breaking the 64 MiB total.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let random: Vec<u8> = (0..31 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let text = b"{\"k\": \"some JSON-ish text 0123456789\"}\n".repeat((31 << 20) / 40);
    let mut m: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    m.insert("evidence/a.bin".into(), random);
    m.insert("evidence/b.json".into(), text);
    let mut z = hostile::Z::of(&m);
    // The random bytes may contain the EOCD signature by chance: clear it.
    for e in &mut z.entries {
        while let Some(i) = e.data.windows(4).position(|w| w == b"PK\x05\x06") {
            e.data[i] = 0;
        }
        if e.method == 0 {
            e.crc = hostile::crc(&e.data);
        }
    }
    std::fs::write(dir.join("at_caps_62mib_no_envelope.zip"), z.build()).unwrap();
    z.entries
        .push(hostile::entry("evidence/c.txt", &vec![b'x'; 4 << 20]));
    std::fs::write(dir.join("over_total_cap.zip"), z.build()).unwrap();
    println!("{} inputs in {}", hostile::cases().len() + 2, dir.display());
}
