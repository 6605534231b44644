//! The real-registry test setup itself: Debian's docker-registry starts on
//! 127.0.0.1, accepts every pushed shape, and serves them back byte for byte.

use crate::common;

use common::registry::*;

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

#[test]
fn real_registry_serves_every_pushed_shape_byte_for_byte() {
    let reg = Registry::start();
    let shapes = [
        (
            "test/oci-index",
            index(
                Flavour::Oci,
                &[("linux", "amd64"), ("linux", "arm64")],
                "oci-index",
            ),
        ),
        (
            "test/docker-list",
            index(
                Flavour::Docker,
                &[("linux", "arm64"), ("linux", "amd64")],
                "docker-list",
            ),
        ),
        (
            "test/oci-single",
            single(Flavour::Oci, "linux", "amd64", "oci-single"),
        ),
        (
            "test/docker-single",
            single(Flavour::Docker, "linux", "amd64", "docker-single"),
        ),
    ];
    for (repo, img) in &shapes {
        let d = reg.push(repo, "v1", img);
        assert_eq!(d, img.digest());
        let r = http(
            "GET",
            &format!("{}/v2/{repo}/manifests/{d}", reg.url),
            &[("Accept", ACCEPT)],
            b"",
        );
        assert_eq!(r.status, 200, "{repo}");
        assert_eq!(r.body, img.manifest, "{repo}: bytes differ");
        assert_eq!(
            r.header("content-type"),
            Some(img.media_type.as_str()),
            "{repo}"
        );
        assert_eq!(r.header("docker-content-digest"), Some(d.as_str()));
        for (_, child) in &img.children {
            let cd = sha256_digest(child);
            let r = http(
                "GET",
                &format!("{}/v2/{repo}/manifests/{cd}", reg.url),
                &[("Accept", ACCEPT)],
                b"",
            );
            assert_eq!(r.body, *child, "{repo} child {cd}");
        }
    }
    // An unknown digest is a 404 with a registry error body.
    let r = http(
        "GET",
        &format!(
            "{}/v2/test/oci-single/manifests/sha256:{}",
            reg.url,
            "0".repeat(64)
        ),
        &[("Accept", ACCEPT)],
        b"",
    );
    assert_eq!(r.status, 404);
}
