//! `strata module package | publish | fetch`. The work itself is in `stacks::registry`; this
//! file prints and picks the exit code (the S3 side of a registry is in `s3.rs`).

use std::path::{Path, PathBuf};

use stacks::registry::{self, Manifest};

use crate::args::{Global, ModuleArgs, ModuleCommand};
use crate::context::{stack_dir, Failure, Outcome};
use crate::s3::s3_opener;
use crate::ui::EXIT_OK;

pub(crate) fn module(global: &Global, args: &ModuleArgs) -> Outcome {
    match &args.command {
        ModuleCommand::Package { dir, out } => package(dir, out.as_deref()),
        ModuleCommand::Publish { dir, registry } => publish(global, dir, registry),
        ModuleCommand::Fetch { upgrade } => fetch(global, *upgrade),
    }
}

fn package(dir: &Path, out: Option<&Path>) -> Outcome {
    let header = registry::module_header(dir)?;
    let bytes = registry::archive::package(dir)?;
    let sha256 = files::digest::sha256_hex(&bytes);
    let file_name = match &header.version {
        Some(version) => format!(
            "{}-{version}.{}",
            header.name,
            registry::archive::ARCHIVE_EXTENSION
        ),
        None => format!("{}.{}", header.name, registry::archive::ARCHIVE_EXTENSION),
    };
    let path = out.map_or_else(|| PathBuf::from(&file_name), Path::to_path_buf);
    std::fs::write(&path, &bytes)
        .map_err(|e| Failure::new(format!("writing {}: {e}", path.display())))?;
    println!("{}", path.display());
    println!("sha256 {sha256}");
    Ok(EXIT_OK)
}

fn publish(global: &Global, dir: &Path, registry_name: &str) -> Outcome {
    let manifest = Manifest::load(&stack_dir(&global.file))?;
    let mut open_s3 = s3_opener(global);
    let store = registry::open_store(&manifest, registry_name, &mut open_s3)?;
    let published = registry::publish(store.as_ref(), dir)?;
    println!(
        "Published module `{}` {} to registry `{registry_name}`: {}",
        published.name, published.version, published.url
    );
    println!("sha256 {}", published.sha256);
    Ok(EXIT_OK)
}

fn fetch(global: &Global, upgrade: bool) -> Outcome {
    let mut open_s3 = s3_opener(global);
    let fetched = registry::fetch(&global.file, &mut open_s3, upgrade)?;
    for f in &fetched {
        println!(
            "{} {}: {} (sha256 {})",
            f.entry.name,
            f.entry.version,
            if f.downloaded {
                "downloaded"
            } else {
                "cached, verified"
            },
            f.entry.sha256
        );
    }
    let lock = stack_dir(&global.file).join(registry::LOCK_FILE);
    match fetched.len() {
        0 => println!(
            "The stack uses no published modules; wrote an empty {}.",
            lock.display()
        ),
        n => println!(
            "Wrote {} ({n} module{}).",
            lock.display(),
            if n == 1 { "" } else { "s" }
        ),
    }
    Ok(EXIT_OK)
}
