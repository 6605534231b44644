//! The measurement engine on real data: the Blyss firmware image and
//! reports, the `sev` crate's own function and test vectors, and vectors
//! produced by sev-snp-measure 0.0.13.

use crate::common;

use blyss_evidence::evidence::attestation::AttestationDocument;
use blyss_evidence::measure::{
    self, cmdline_hash, describe, digests_by_vcpu_count, KernelHashes, LaunchParams, VcpuType,
    VmmType, VmsaFpu,
};
use blyss_evidence::protocol::Protocol;
use common::measure::*;
use sha2::{Digest, Sha256};

const KERNEL_SHA256: &str = "ff5e53ccc981594fbbdf6433011ef18227aa981ee85680af5e5f21ff23ae67dc";
const INITRD_SHA256: &str = "5e15926b19a1ee3d9d5182438286b74f5060829b1ba8f560bf0a748d6510e611";

fn h32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn params(vcpus: u32, fpu: VmsaFpu) -> LaunchParams {
    LaunchParams {
        vcpus,
        vcpu_type: "EPYC-v4".parse().unwrap(),
        vmm: VmmType::Qemu,
        guest_features: 0x1,
        vmsa_fpu: fpu,
    }
}

/// The Blyss recipe: published command line minus " initrd=initrd", not trimmed.
fn blyss_inputs(doc: &str) -> (AttestationDocument, KernelHashes) {
    let d = AttestationDocument::parse_json(&document(doc)).unwrap();
    let cli = d
        .launch
        .as_ref()
        .unwrap()
        .kernel_cli
        .replace(" initrd=initrd", "");
    let h = KernelHashes {
        kernel: h32(KERNEL_SHA256),
        initrd: h32(INITRD_SHA256),
        cmdline: cmdline_hash(&cli),
    };
    (d, h)
}

#[test]
fn real_image_descriptor_matches_the_published_facts_and_every_protocol_pin() {
    let d = describe(&firmware_image()).unwrap();
    assert_eq!(d.sha256, FIRMWARE_SHA256);
    assert_eq!(d.size, 4_194_304);
    assert_eq!(d.gpa.0, 0xffc0_0000);
    assert_eq!(d.sev_es_reset_eip.0, 0x80b004);
    assert_eq!(d.sev_hashes_table_gpa.map(|h| h.0), Some(0x80fc00));
    assert_eq!(
        d.gctx_after_image,
        "3aae96c63f605fe10b77807f8db149b0cfafd78e5ade12f7c05a8f679aa2822afd02c0ef7fa5897a2120dbd808cb0be5"
    );
    assert_eq!(
        d.sections_summary(),
        "SNP_SEC_MEM 0x800000+0x9000, SNP_SEC_MEM 0x80a000+0x3000, SNP_SECRETS 0x80d000+0x1000, \
         CPUID 0x80e000+0x1000, SNP_KERNEL_HASHES 0x80f000+0x1000, SNP_SEC_MEM 0x810000+0x10000"
    );
    for id in ["v0.0.1", "v0.0.1-test", "v0.0.2"] {
        let p = Protocol::load(id).unwrap();
        let sec: serde_json::Value =
            serde_json::to_value(p.sections.measurement.as_ref().unwrap()).unwrap();
        let pinned: measure::FirmwareDescriptor =
            serde_json::from_value(sec["firmware"].clone()).unwrap();
        assert_eq!(pinned, d, "protocol {id}: pinned descriptor != derived");
        // The pins agree with the upstream protocol they extend.
        let up = &p.upstream.as_ref().unwrap()["requirements"];
        assert_eq!(up["firmware"]["ovmf"], sec["firmware"]["sha256"], "{id}");
        assert_eq!(up["firmware"]["kernel"], sec["kernel_sha256"], "{id}");
        assert_eq!(up["firmware"]["initrd"], sec["initrd_sha256"], "{id}");
        assert_eq!(
            up.get("expected_measurement"),
            sec.get("expected_measurement"),
            "{id}"
        );
    }
}

#[test]
fn both_real_reports_reproduce_from_the_image_and_from_the_descriptor() {
    let image = firmware_image();
    for (doc, vcpus) in [
        ("attestation-2023-12.json", 4),
        ("attestation-2024-01.json", 8),
    ] {
        let (d, h) = blyss_inputs(doc);
        assert_eq!(d.launch.as_ref().unwrap().num_vcpus, vcpus);
        let p = params(vcpus, VmsaFpu::LegacyZero);
        let (desc, from_image) = measure::measure_image(&image, Some(&h), &p).unwrap();
        let from_desc = measure::measure(&desc, Some(&h), &p).unwrap();
        assert_eq!(from_image.digest, d.measurement(), "{doc} (image)");
        assert_eq!(from_desc.digest, d.measurement(), "{doc} (descriptor)");
        assert_eq!(from_image.trace.firmware_source, "image");
        assert_eq!(from_desc.trace.firmware_source, "descriptor");
        // 1024 image pages + the hashes page are normal pages in image mode.
        assert_eq!(from_image.trace.pages["normal"], 1025);
        assert_eq!(from_desc.trace.pages["normal"], 1);
        assert_eq!(from_desc.trace.pages["vmsa"], u64::from(vcpus));
        assert_eq!(from_desc.trace.pages["zero"], 9 + 3 + 16);
    }
    assert!(hex::encode(
        AttestationDocument::parse_json(&document("attestation-2024-01.json"))
            .unwrap()
            .measurement()
    )
    .eq(MEASUREMENT_2024_01));
}

#[test]
fn modern_fpu_mode_does_not_reproduce_the_blyss_reports() {
    let desc = describe(&firmware_image()).unwrap();
    let (d, h) = blyss_inputs("attestation-2024-01.json");
    let m = measure::measure(&desc, Some(&h), &params(8, VmsaFpu::KvmInit2)).unwrap();
    assert_ne!(m.digest, d.measurement());
}

#[test]
fn one_changed_command_line_byte_changes_the_digest() {
    let desc = describe(&firmware_image()).unwrap();
    let (d, _) = blyss_inputs("attestation-2024-01.json");
    let cli = d
        .launch
        .as_ref()
        .unwrap()
        .kernel_cli
        .replace(" initrd=initrd", "");
    let mut bytes = cli.into_bytes();
    let i = bytes.len() / 2;
    bytes[i] ^= 0x01;
    let changed = String::from_utf8(bytes).unwrap();
    let h = KernelHashes {
        kernel: h32(KERNEL_SHA256),
        initrd: h32(INITRD_SHA256),
        cmdline: cmdline_hash(&changed),
    };
    let m = measure::measure(&desc, Some(&h), &params(8, VmsaFpu::LegacyZero)).unwrap();
    assert_ne!(m.digest, d.measurement());
    // A trimmed command line is a different command line too (the Blyss
    // line has no surrounding blanks, so test on one that does).
    assert_ne!(cmdline_hash(" a "), cmdline_hash("a"));
}

#[test]
fn wrong_vcpu_count_changes_the_digest_and_the_sweep_finds_the_right_one() {
    let desc = describe(&firmware_image()).unwrap();
    let (d, h) = blyss_inputs("attestation-2024-01.json");
    let wrong = measure::measure(&desc, Some(&h), &params(4, VmsaFpu::LegacyZero)).unwrap();
    assert_ne!(wrong.digest, d.measurement());
    let all = digests_by_vcpu_count(&desc, Some(&h), &params(4, VmsaFpu::LegacyZero), 64).unwrap();
    assert_eq!(all.len(), 64);
    assert_eq!(all[3], wrong.digest);
    assert_eq!(
        all.iter().position(|x| *x == d.measurement()),
        Some(7),
        "only 8 vCPUs reproduce the report"
    );
    assert_eq!(all.iter().filter(|x| **x == d.measurement()).count(), 1);
}

/// The sev crate's own SNP test vectors (sev 8 `tests/measurement.rs`), on
/// its 4 KiB OVMF suffixes, with kernel and initrd `/dev/null` (sha256 of
/// nothing), modern VMSA mode.
#[test]
fn sev_crate_test_vectors_pass_through_the_engine() {
    let suffix = std::fs::read(root().join("fixtures/sev/ovmf_AmdSev_suffix.bin")).unwrap();
    let x64 = std::fs::read(root().join("fixtures/sev/ovmf_OvmfX64_suffix.bin")).unwrap();
    let empty: [u8; 32] = Sha256::digest(b"").into();
    let devnull = |append: &str| KernelHashes {
        kernel: empty,
        initrd: empty,
        cmdline: cmdline_hash(append),
    };
    let p = |vcpus, gf, vmm| LaunchParams {
        vcpus,
        vcpu_type: "EPYC-v4".parse().unwrap(),
        vmm,
        guest_features: gf,
        vmsa_fpu: VmsaFpu::KvmInit2,
    };
    let append = "console=ttyS0 loglevel=7";
    let cases: &[(&[u8], Option<KernelHashes>, LaunchParams, &str)] = &[
        (&suffix, Some(devnull("")), p(1, 0x1, VmmType::Qemu), "ddc5224521617a536ee7ce9dd6224d1b58a8d4fda1c741f3ac99fc4bfa04ba6e9fc98646d4a07a9079397fa3852819b5"),
        (&suffix, Some(devnull("")), p(1, 0x21, VmmType::Qemu), "329c8ce0972ae52343b64d34a434a86f245dfd74f5ed7aae15d22efc78fb9683632b9b50e4e1d7fa41179ef98a7ef198"),
        (&suffix, Some(devnull(append)), p(1, 0x1, VmmType::Qemu), "6d287813eb5222d770f75005c664e34c204f385ce832cc2ce7d0d6f354454362f390ef83a92046c042e706363b4b08fa"),
        (&suffix, Some(devnull(append)), p(1, 0x21, VmmType::Qemu), "803f691094946e42068aaa3a8f9e26a5c89f36f7b73ecfb28c653360fe4b3aba7e534442e7e1e17895dfe778d0228977"),
        (&suffix, Some(devnull("")), p(1, 0x1, VmmType::Ec2), "7d3756157c805bf6adf617064c8552e8c1688fa1c8756f11cbf56ba5d25c9270fb69c0505c1cbe1c5c66c0e34c6ed3be"),
        (&suffix, Some(devnull("")), p(1, 0x21, VmmType::Ec2), "6ae80856486b1396af8c82a40351d6ed76a20c785e9c7fa4ffa27c22d5d6313b4b3b458cd3c9968e6f89fb5d8450d7a6"),
        (&suffix, None, p(1, 0x1, VmmType::Qemu), "19358ba9a7615534a9a1e2f0dfc29384dcd4dcb7062ff9c6013b26869a5fc6ecabe033c48dd6f6db5d6d76e7c5df632d"),
        (&suffix, None, p(1, 0x21, VmmType::Qemu), "e1e1ca029dd7973ab9513295be68198472dcd4fc834bd9af9b63f6e8a1674dbf281a9278a4a2ebe0eed9f22adbcd0e2b"),
        (&suffix, Some(devnull("")), p(4, 0x1, VmmType::Qemu), "5061fffb019493a903613d56d54b94912a1a2f9e4502385f5c194616753720a92441310ba6c4933de877c36e23046ad5"),
        (&suffix, Some(devnull("")), p(4, 0x21, VmmType::Qemu), "4953b1fb416fa874980e8442b3706d345926d5f38879134e00813c5d7abcbe78eafe7b422907be0b4698e2414a631942"),
        (&x64, None, p(1, 0x1, VmmType::Qemu), "da0296de8193586a5512078dcd719eccecbd87e2b825ad4148c44f665dc87df21e5b49e21523a9ad993afdb6a30b4005"),
        (&x64, None, p(1, 0x21, VmmType::Qemu), "28797ae0afaba4005a81e629acebfb59e6687949d6be44007cd5506823b0dd66f146aaae26ff291eed7b493d8a64c385"),
    ];
    for (i, (image, hashes, p, expected)) in cases.iter().enumerate() {
        let (_, m) = measure::measure_image(image, hashes.as_ref(), p)
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_eq!(m.hex(), *expected, "sev test vector case {i}");
    }
    // sev: "Kernel specified but OVMF metadata doesn't include SNP_KERNEL_HASHES section".
    let err =
        measure::measure_image(&x64, Some(&devnull("")), &p(1, 0x1, VmmType::Qemu)).unwrap_err();
    assert!(err.to_string().contains("SNP_KERNEL_HASHES"), "{err}");
}

/// Same inputs as files through `sev::measurement::snp::snp_calc_launch_digest`
/// (which trims the command line: ours has no surrounding blanks here).
#[test]
fn engine_agrees_with_sev_snp_calc_launch_digest_on_the_real_image() {
    use sev::measurement::snp::{snp_calc_launch_digest, SnpMeasurementArgs};
    use sev::measurement::vmsa::{GuestFeatures, VMMType};
    use sev::parser::ByteParser;
    let path = firmware_path();
    let image = firmware_image();
    let dir = tempfile::tempdir().unwrap();
    let k = dir.path().join("vmlinuz");
    let i = dir.path().join("initrd");
    let kernel: Vec<u8> = (0..=255u8).cycle().take(16384).collect();
    let initrd = b"initrd\n".repeat(1000);
    std::fs::write(&k, &kernel).unwrap();
    std::fs::write(&i, &initrd).unwrap();
    let append = "console=ttyS0 loglevel=7";
    let desc = describe(&image).unwrap();
    for vcpus in [1u32, 2, 8] {
        for gf in [0x1u64, 0x21] {
            for (vmm, sev_vmm) in [(VmmType::Qemu, VMMType::QEMU), (VmmType::Ec2, VMMType::EC2)] {
                for t in ["EPYC-v4", "EPYC-Milan", "EPYC-Genoa"] {
                    let vt: VcpuType = t.parse().unwrap();
                    let theirs = snp_calc_launch_digest(SnpMeasurementArgs {
                        vcpus,
                        vcpu_type: vt.0,
                        ovmf_file: path.clone(),
                        guest_features: GuestFeatures::from_bytes(&gf.to_le_bytes()).unwrap(),
                        kernel_file: Some(k.clone()),
                        initrd_file: Some(i.clone()),
                        append: Some(append),
                        ovmf_hash_str: None,
                        vmm_type: Some(sev_vmm),
                    })
                    .unwrap();
                    let h = KernelHashes {
                        kernel: Sha256::digest(&kernel).into(),
                        initrd: Sha256::digest(&initrd).into(),
                        cmdline: cmdline_hash(append),
                    };
                    let p = LaunchParams {
                        vcpus,
                        vcpu_type: vt,
                        vmm,
                        guest_features: gf,
                        vmsa_fpu: VmsaFpu::KvmInit2,
                    };
                    let ours = measure::measure(&desc, Some(&h), &p).unwrap();
                    assert_eq!(
                        ours.hex(),
                        theirs.get_hex_ld(),
                        "vcpus {vcpus} features {gf:#x} vmm {vmm} type {t}"
                    );
                }
            }
        }
    }
}

/// Vectors produced with sev-snp-measure 0.0.13 (PyPI) on the real image:
/// `sev-snp-measure --mode snp --ovmf OVMF_v0.0.1.fd --kernel K --initrd I
/// --append 'console=ttyS0 loglevel=7 ' --vcpus N --vcpu-type T
/// --guest-features F`, where K = bytes 0..=255 repeated to 16 KiB and
/// I = "initrd\n" × 1000. Note the trailing blank: sev-snp-measure hashes the
/// command line as given, like QEMU and unlike the sev crate (which trims).
#[test]
fn engine_agrees_with_sev_snp_measure_0_0_13_vectors() {
    let desc = describe(&firmware_image()).unwrap();
    let kernel: Vec<u8> = (0..=255u8).cycle().take(16384).collect();
    let initrd = b"initrd\n".repeat(1000);
    let h = KernelHashes {
        kernel: Sha256::digest(&kernel).into(),
        initrd: Sha256::digest(&initrd).into(),
        cmdline: cmdline_hash("console=ttyS0 loglevel=7 "),
    };
    let cases = [
        (1, "EPYC-v4", 0x1, "ae8411b5b9763824bcfb6cb0e831ad669983108aea437262c016555f0c7c27625dbb066bb172f0b332df82900621a474"),
        (4, "EPYC-v4", 0x1, "5584d7ee04efb55c6ccb3453af1ca5bb58299fd17e43e66da2cf035ceec7e6c087e58e5189c505f1de065a4c334a8d8d"),
        (8, "EPYC-v4", 0x21, "02c7a8ca367b1f322c545e95bff0b2e859ebb44d19611bcad63046c6a9db5fc8ec2547da2aacbaddf84d86d23b9d68be"),
        (2, "EPYC-Milan", 0x1, "088e191fdd6e4c047906f6f510089f54ed1fc3ded2e25c136e4bf217508c38e553ca83d2b0bf99e2d32bb4e8233a2c5b"),
        (3, "EPYC-Genoa", 0x1, "cdc32f6b3b053359264af865d6b2515e63b77f3f24c63a49cd518fc68aa5ebfb82b1ab4ecd3084fbd3fd92db9fc32586"),
    ];
    for (vcpus, t, gf, expected) in cases {
        let p = LaunchParams {
            vcpus,
            vcpu_type: t.parse().unwrap(),
            vmm: VmmType::Qemu,
            guest_features: gf,
            vmsa_fpu: VmsaFpu::KvmInit2,
        };
        assert_eq!(
            measure::measure(&desc, Some(&h), &p).unwrap().hex(),
            expected,
            "{vcpus} {t} {gf:#x}"
        );
    }
    // Without --initrd (empty initrd), and without --kernel (zero hashes page).
    let no_initrd = KernelHashes {
        initrd: Sha256::digest(b"").into(),
        cmdline: cmdline_hash(""),
        ..h
    };
    let p2 = LaunchParams {
        vcpus: 2,
        ..params(2, VmsaFpu::KvmInit2)
    };
    assert_eq!(
        measure::measure(&desc, Some(&no_initrd), &p2).unwrap().hex(),
        "953b8b99183061b90ffe46642a275fa262e183bdda36553bce0afed7892c41c24676421e6f57c74d3d525af0372391f6"
    );
    assert_eq!(
        measure::measure(&desc, None, &p2).unwrap().hex(),
        "a873779a2e2270bffe359f9b76a849528569c800d9cc48dadad4e283771c93604d0a38c2b925a445ccac460bca9697ce"
    );
}

#[test]
fn measurement_errors_are_reported_not_panicked() {
    let desc = describe(&firmware_image()).unwrap();
    let (_, h) = blyss_inputs("attestation-2024-01.json");
    let e = measure::measure(&desc, Some(&h), &params(0, VmsaFpu::LegacyZero)).unwrap_err();
    assert!(e.to_string().contains("at least 1"), "{e}");
    let mut bad = desc.clone();
    bad.sev_hashes_table_gpa = Some(measure::Hex(0x90_0000));
    let e = measure::measure(&bad, Some(&h), &params(8, VmsaFpu::LegacyZero)).unwrap_err();
    assert!(
        e.to_string().contains("outside the SNP_KERNEL_HASHES"),
        "{e}"
    );
    let mut bad = desc;
    bad.gctx_after_image = "00".repeat(47);
    assert!(measure::measure(&bad, Some(&h), &params(8, VmsaFpu::LegacyZero)).is_err());
}
