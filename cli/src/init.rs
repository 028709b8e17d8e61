//! `strata init`, `strata schema` and `strata completions`: getting started and editor and
//! shell support. None of them reads state or calls AWS.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs, Global, InitArgs};
use crate::context::{Failure, Outcome};
use crate::ui::EXIT_OK;

/// The stack `init` writes: a topic fanning out to a work queue with a dead-letter queue,
/// the tour of the README. `STACK_NAME` is replaced by a name made from the directory's.
const TEMPLATE: &str = r#"# Completion and checking in your editor: run `strata schema > stack.schema.json`, then
# make the first line of this file `# yaml-language-server: $schema=stack.schema.json`.
#
# A topic fans out to a work queue, whose failures land in a dead-letter queue.
# Try: strata validate, strata plan, strata apply, strata output queue_url.
stack: STACK_NAME
description: An example stack made by `strata init`
region: us-east-1
tags: { team: example }

params:
  env: { type: string, default: dev, allowed: [dev, staging, prod] }
  visibility: { type: number, default: 45 }

resources:
  dead_letters:
    type: aws.sqs.queue
    properties:
      message_retention_seconds: 1209600

  work:
    type: aws.sqs.queue
    properties:
      visibility_timeout_seconds: ${params.visibility}
      redrive_policy:
        dead_letter_target_arn: ${dead_letters.arn}
        max_receive_count: 5
      tags: { env: "${params.env}" }

  events:
    type: aws.sns.topic
    properties:
      display_name: Events (${params.env})

  work_from_events:
    type: aws.sqs.queue_policy
    properties:
      queue_url: ${work.url}
      policy:
        Version: "2012-10-17"
        Statement:
          Sid: TopicMaySend
          Effect: Allow
          Principal: { Service: sns.amazonaws.com }
          Action: sqs:SendMessage
          Resource: ${work.arn}
          Condition:
            ArnEquals: { aws:SourceArn: "${events.arn}" }

  work_subscription:
    type: aws.sns.subscription
    properties:
      topic_arn: ${events.arn}
      protocol: sqs
      endpoint: ${work.arn}
      raw_message_delivery: true
    depends_on: [work_from_events]

outputs:
  queue_url: ${work.url}
  topic_arn:
    value: ${events.arn}
    description: Publish events here
"#;

/// A stack name's longest length.
const MAX_STACK_NAME: usize = 63;
/// The name used when the directory's name has no letter to start one.
const FALLBACK_STACK_NAME: &str = "example";

pub(crate) fn init(global: &Global, args: &InitArgs) -> Outcome {
    let file = match &args.dir {
        Some(dir) => dir.join("stack.yaml"),
        None => global.file.clone(),
    };
    if file.exists() {
        return Err(Failure::new(format!(
            "{} already exists; refusing to overwrite it",
            file.display()
        ))
        .help("run `strata init DIR` to start a stack in another directory"));
    }
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| Failure::new(format!("creating {}: {e}", dir.display())))?;
    let name = stack_name_for(&dir);
    std::fs::write(&file, TEMPLATE.replace("STACK_NAME", &name))
        .map_err(|e| Failure::new(format!("writing {}: {e}", file.display())))?;
    let gitignore = dir.join(".gitignore");
    let wrote_gitignore = !gitignore.exists()
        && std::fs::write(
            &gitignore,
            "# strata's state holds secrets as applied\n.strata/\n",
        )
        .is_ok();
    println!("Wrote {} (stack `{name}`).", file.display());
    if wrote_gitignore {
        println!(
            "Wrote {} to keep the state out of git.",
            gitignore.display()
        );
    }
    let flag = if args.dir.is_none() && global.file != Path::new("stack.yaml") {
        format!(" -f {}", file.display())
    } else {
        String::new()
    };
    let cd = match &args.dir {
        Some(d) => format!("cd {} && ", d.display()),
        None => String::new(),
    };
    println!("Next: {cd}strata{flag} validate && strata{flag} plan");
    Ok(EXIT_OK)
}

/// A valid stack name from a directory's name: lowercase, `-` for anything else, starting
/// with a letter.
fn stack_name_for(dir: &Path) -> String {
    let base = std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut name = String::new();
    for c in base.to_lowercase().chars() {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() {
            c
        } else {
            '-'
        };
        if name.is_empty() && !c.is_ascii_lowercase() {
            continue;
        }
        if c == '-' && name.ends_with('-') {
            continue;
        }
        name.push(c);
    }
    name.truncate(MAX_STACK_NAME);
    let name = name.trim_end_matches('-').to_string();
    if name.is_empty() {
        FALLBACK_STACK_NAME.to_string()
    } else {
        name
    }
}

pub(crate) fn schema() -> Outcome {
    let schema = stacks::stack_json_schema(&providers::catalog());
    let text = serde_json::to_string_pretty(&schema)
        .map_err(|e| Failure::new(format!("cannot encode the schema: {e}")))?;
    println!("{text}");
    Ok(EXIT_OK)
}

pub(crate) fn completions(args: &CompletionsArgs) -> Outcome {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "strata", &mut std::io::stdout());
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_name_becomes_a_valid_stack_name() {
        let dir = tempfile::Builder::new()
            .prefix(".Tmp_Orders 2")
            .tempdir()
            .unwrap();
        let name = stack_name_for(dir.path());
        assert!(name.starts_with("tmp-orders-2"), "{name}");
        assert!(name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
    }
}
