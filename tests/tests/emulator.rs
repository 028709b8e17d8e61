use strata_tests::Emulator;

#[test]
fn emulator_starts_and_answers() {
    let first = Emulator::start();
    let second = Emulator::start();

    for emulator in [&first, &second] {
        let (status, _) = emulator
            .http_get("/moto-api/")
            .unwrap_or_else(|e| panic!("GET {}/moto-api/: {e}", emulator.url));
        assert_eq!(status, 200, "GET {}/moto-api/", emulator.url);
    }
    assert_ne!(first.port(), second.port());
    assert_ne!(first.url, second.url);
    assert!(first.url.starts_with("http://127.0.0.1:"));
}
