//! `mageflow plugin new NAME --lang rust|python|typescript`: a plugin project that builds and runs as it
//! is. Its `run` counts the customers of a group, page by page (Magento caps a page at 300),
//! logs each page and reports the count; a native unit test checks the paging (Python: against
//! the SDK's fake host, with pytest); and its
//! `workflow.toml` grants only `customers:read`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::Usage;
use crate::plugin_build::Lang;

/// Where the Rust SDK is: `MAGEFLOW_SDK`, else the source tree this binary was built from.
fn sdk_path() -> Result<PathBuf, Usage> {
    if let Some(p) = std::env::var_os("MAGEFLOW_SDK") {
        return Ok(PathBuf::from(p));
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/sdk");
    std::fs::canonicalize(&built_from).map_err(|_| {
        Usage(format!(
            "the Rust SDK is not at {} any more: set MAGEFLOW_SDK to the mageflow-sdk crate \
             (plugins/sdk in mageflow's source)",
            built_from.display()
        ))
    })
}

fn workflow_toml(name: &str, component: &str) -> String {
    format!(
        "# The workflow file of {name}: what it may do and when it runs. `mageflow plugin build`\n\
         # builds the plugin for these grants, and no more.\n\
         name = \"{name}\"\n\
         plugin = \"{component}\"\n\
         grants = [\"customers:read\"]\n\
         \n\
         # No [trigger]: run it by hand, `mageflow run {name} --input 1`.\n"
    )
}

fn rust_files(name: &str) -> Result<Vec<(String, String)>, Usage> {
    let sdk = sdk_path()?;
    let crate_name = name.replace('-', "_");
    Ok(vec![
        (
            "Cargo.toml".into(),
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
                 publish = false\n\n[lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n\n\
                 [dependencies]\nmageflow-sdk = {{ path = {:?} }}\n\n\
                 # A project of its own, not a member of a workspace above it.\n[workspace]\n",
                sdk.display().to_string()
            ),
        ),
        (
            "src/lib.rs".into(),
            format!(
                "//! {name}: counts the customers of a group, page by page, and reports how many.\n\
                 //! Manual input: the group id, such as `1`.\n\n\
                 use mageflow_sdk::{{\n    Condition, Guest, Outcome, Trigger, customer_pages, export_workflow, info, search,\n}};\n\n\
                 /// The customers in `group`, counted over every page of the search.\n\
                 pub fn count_in_group(group: u32) -> Result<usize, String> {{\n\
                 \x20   let criteria = search().filter(\"group_id\", Condition::Eq, &group.to_string());\n\
                 \x20   let mut count = 0;\n\
                 \x20   for (n, page) in customer_pages(&criteria).enumerate() {{\n\
                 \x20       let page = page.map_err(|e| format!(\"searching customers: {{e:?}}\"))?;\n\
                 \x20       info(&format!(\"page {{}}: {{}} customers\", n + 1, page.len()));\n\
                 \x20       count += page.len();\n\
                 \x20   }}\n\
                 \x20   Ok(count)\n\
                 }}\n\n\
                 struct Plugin;\n\n\
                 impl Guest for Plugin {{\n\
                 \x20   fn run(trigger: Trigger) -> Result<Outcome, String> {{\n\
                 \x20       let Trigger::Manual(input) = trigger else {{\n\
                 \x20           return Err(\"{name} runs by hand, with a group id as input\".into());\n\
                 \x20       }};\n\
                 \x20       let group: u32 = input\n\
                 \x20           .trim()\n\
                 \x20           .parse()\n\
                 \x20           .map_err(|_| format!(\"the input must be a group id, not {{input:?}}\"))?;\n\
                 \x20       let count = count_in_group(group)?;\n\
                 \x20       Ok(Outcome {{\n\
                 \x20           summary: format!(\"{{count}} customers in group {{group}}\"),\n\
                 \x20           output_json: None,\n\
                 \x20       }})\n\
                 \x20   }}\n\
                 }}\n\n\
                 export_workflow!(Plugin);\n\n\
                 #[cfg(test)]\n\
                 mod tests {{\n\
                 \x20   use mageflow_sdk::testing::{{Fake, customer}};\n\n\
                 \x20   use super::*;\n\n\
                 \x20   #[test]\n\
                 \x20   fn counts_over_every_page() {{\n\
                 \x20       // 700 customers in group 1: three pages of 300, 300 and 100.\n\
                 \x20       let mut fake = Fake::new();\n\
                 \x20       for id in 1..=700 {{\n\
                 \x20           fake = fake.with_customer(customer(id, &format!(\"c{{id}}@example.com\")));\n\
                 \x20       }}\n\
                 \x20       let (out, fake) = fake.run(|| Plugin::run(Trigger::Manual(\"1\".into())));\n\
                 \x20       assert_eq!(out.unwrap().summary, \"700 customers in group 1\");\n\
                 \x20       assert_eq!(fake.log().len(), 3);\n\
                 \x20   }}\n\
                 }}\n"
            ),
        ),
        (
            "workflow.toml".into(),
            workflow_toml(name, &format!("{crate_name}.wasm")),
        ),
    ])
}

fn python_files(name: &str) -> Vec<(String, String)> {
    let module = name.replace('-', "_");
    vec![
        (
            "app.py".into(),
            format!(
                "\"\"\"{name}: counts the customers of a group, page by page, and reports how many.\n\
                 Manual input: the group id, such as 1.\"\"\"\n\n\
                 import mageflow_sdk as mf\n\n\n\
                 def run(trigger):\n\
                 \x20   if not hasattr(trigger, \"value\") or not isinstance(trigger.value, str):\n\
                 \x20       raise ValueError(\"{name} runs by hand, with a group id as input\")\n\
                 \x20   group = int(trigger.value.strip())\n\
                 \x20   count = 0\n\
                 \x20   for n, page in enumerate(mf.customer_pages(mf.search().where(\"group_id\", \"eq\", group)), 1):\n\
                 \x20       mf.log.info(f\"page {{n}}: {{len(page)}} customers\")\n\
                 \x20       count += len(page)\n\
                 \x20   return mf.outcome(f\"{{count}} customers in group {{group}}\", {{\"count\": count}})\n\n\n\
                 # componentize-py looks for `WitWorld`; an uncaught exception fails the run with its\n\
                 # message first.\n\
                 WitWorld = mf.workflow(run)\n"
            ),
        ),
        (
            "test_app.py".into(),
            "\"\"\"Native tests, against the SDK's fake host: `python3 -m pytest`.\"\"\"\n\n\
             from mageflow_sdk.testing import Err, Fake, customer, manual\n\n\
             import app\n\n\n\
             def test_counts_over_every_page():\n\
             \x20   # 700 customers in group 1: three pages of 300, 300 and 100.\n\
             \x20   fake = Fake().with_customers(customer(i, f\"c{i}@example.com\") for i in range(1, 701))\n\
             \x20   out = fake.run(app.WitWorld, manual(\"1\"))\n\
             \x20   assert out.summary == \"700 customers in group 1\"\n\
             \x20   assert fake.log == [f\"info: page {n}: {k} customers\" for n, k in [(1, 300), (2, 300), (3, 100)]]\n\n\n\
             def test_a_bad_input_fails_the_run_naming_it():\n\
             \x20   try:\n\
             \x20       Fake().run(app.WitWorld, manual(\"one\"))\n\
             \x20   except Err as e:\n\
             \x20       assert e.value.splitlines()[0].startswith(\"ValueError: invalid literal for int()\")\n\
             \x20   else:\n\
             \x20       raise AssertionError(\"the run did not fail\")\n"
                .to_owned(),
        ),
        ("workflow.toml".into(), workflow_toml(name, &format!("{module}.wasm"))),
    ]
}

/// Where `plugin new` puts the TypeScript SDK in a project (its package.json names it), so
/// `npm install` needs no registry.
const VENDORED_JS_SDK: &str = "vendor/mageflow-sdk";

fn typescript_files(name: &str) -> Vec<(String, String)> {
    let module = name.replace('-', "_");
    let mut files: Vec<(String, String)> = vec![
        (
            "package.json".into(),
            format!(
                "{{\n  \"name\": \"{name}\",\n  \"private\": true,\n  \"type\": \"module\",\n  \
                 \"scripts\": {{ \"test\": \"node --import @mageflow/sdk/register --test\" }},\n  \
                 \"devDependencies\": {{ \"@mageflow/sdk\": \"file:{VENDORED_JS_SDK}\" }}\n}}\n"
            ),
        ),
        (
            "tsconfig.json".into(),
            // `plugin build` type-checks with it; `paths` finds the SDK's types before `npm install`.
            format!(
                "{{\n  \"compilerOptions\": {{\n    \"target\": \"es2022\",\n    \"module\": \"es2022\",\n    \
                 \"moduleResolution\": \"bundler\",\n    \"strict\": true,\n    \"allowJs\": true,\n    \
                 \"checkJs\": true,\n    \"noEmit\": true,\n    \"paths\": {{\n      \
                 \"@mageflow/sdk\": [\"./{VENDORED_JS_SDK}/index.d.ts\"],\n      \
                 \"@mageflow/sdk/*\": [\"./{VENDORED_JS_SDK}/*.d.ts\"]\n    }}\n  }},\n  \
                 \"include\": [\"app.ts\", \"*.js\"]\n}}\n"
            ),
        ),
        (".gitignore".into(), "node_modules/\n*.wasm\n".into()),
        (
            "count.js".into(),
            format!(
                "// @ts-check\n\
                 // What {name} does, in JavaScript with JSDoc types, so `npm test` runs it natively\n\
                 // against the SDK's fake host (Node 20 cannot run TypeScript; app.ts is the typed entry).\n\n\
                 import {{ log, outcome, search }} from '@mageflow/sdk';\n\
                 import {{ customerPages }} from '@mageflow/sdk/customers';\n\n\
                 /**\n * Counts the customers of the group the manual input names, page by page.\n\
                 \x20* @param {{import('@mageflow/sdk').Trigger}} trigger\n */\n\
                 export function count(trigger) {{\n\
                 \x20 if (trigger.tag !== 'manual') throw new Error('{name} runs by hand, with a group id as input');\n\
                 \x20 const group = Number(trigger.val.trim());\n\
                 \x20 if (!Number.isInteger(group)) throw new Error(`the input must be a group id, not ${{trigger.val}}`);\n\
                 \x20 let n = 0;\n\
                 \x20 let page = 0;\n\
                 \x20 // Every page (Magento caps a page at 300), sorted by id so none is skipped or seen twice.\n\
                 \x20 for (const customers of customerPages(search().where('group_id', 'eq', group))) {{\n\
                 \x20   page += 1;\n\
                 \x20   log.info(`page ${{page}}: ${{customers.length}} customers`);\n\
                 \x20   n += customers.length;\n\
                 \x20 }}\n\
                 \x20 return outcome(`${{n}} customers in group ${{group}}`, {{ count: n }});\n\
                 }}\n"
            ),
        ),
        (
            "app.ts".into(),
            format!(
                "// {name}: counts the customers of a group, page by page, and reports how many.\n\
                 // Manual input: the group id, such as 1.\n\n\
                 import {{ workflow }} from '@mageflow/sdk';\n\n\
                 import {{ count }} from './count.js';\n\n\
                 // An uncaught exception fails the run with its kind and message first, then its stack.\n\
                 export const run = workflow(count);\n"
            ),
        ),
        (
            "test/count.test.js".into(),
            "// Native tests against the SDK's fake host: `npm test`.\n\n\
             import assert from 'node:assert/strict';\n\
             import { test } from 'node:test';\n\n\
             import { workflow } from '@mageflow/sdk';\n\
             import { Fake, customer, manual, range } from '@mageflow/sdk/testing';\n\n\
             import { count } from '../count.js';\n\n\
             const run = workflow(count);\n\n\
             test('counts over every page', () => {\n\
             \x20 // 700 customers in group 1: three pages of 300, 300 and 100.\n\
             \x20 const fake = new Fake().withCustomers(range(1, 700).map((i) => customer(i, `c${i}@example.com`)));\n\
             \x20 assert.deepEqual(fake.run(run, manual('1')), { summary: '700 customers in group 1', outputJson: '{\"count\":700}' });\n\
             \x20 assert.deepEqual(fake.log, ['info: page 1: 300 customers', 'info: page 2: 300 customers', 'info: page 3: 100 customers']);\n\
             });\n\n\
             test('a bad input fails the run, naming it', () => {\n\
             \x20 assert.throws(\n\
             \x20   () => new Fake().run(run, manual('one')),\n\
             \x20   (e) => e.message.split('\\n')[0] === 'Error: the input must be a group id, not one',\n\
             \x20 );\n\
             });\n"
                .to_owned(),
        ),
        (
            "workflow.toml".into(),
            workflow_toml(name, &format!("{module}.wasm")),
        ),
    ];
    files.extend(
        crate::sdks::JS_SDK
            .iter()
            .map(|(f, text)| (format!("{VENDORED_JS_SDK}/{f}"), (*text).to_owned())),
    );
    files
}

/// Writes the project `name` in `lang` into `dir`, which must not exist or be empty.
pub(crate) fn write(name: &str, lang: Lang, dir: &Path) -> anyhow::Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        return Err(Usage(format!(
            "plugin name {name:?}: use lowercase letters, digits and dashes, starting with a \
             letter (it names the crate or module, the component and the workflow)"
        ))
        .into());
    }
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(Usage(format!(
            "{} exists and is not empty: choose another --dir",
            dir.display()
        ))
        .into());
    }
    let files = match lang {
        Lang::Rust => rust_files(name)?,
        Lang::Python => python_files(name),
        Lang::TypeScript => typescript_files(name),
    };
    let listed: Vec<&str> = files
        .iter()
        .map(|(f, _)| f.as_str())
        .filter(|f| !f.starts_with(VENDORED_JS_SDK))
        .collect();
    for (file, text) in &files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().expect("a file has a folder"))?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let test = match lang {
        Lang::Rust => "cargo test",
        Lang::Python => {
            "python3 -m pytest (with mageflow's plugins/sdk-python installed: pip install pytest /path/to/plugins/sdk-python)"
        }
        Lang::TypeScript => "npm install && npm test",
    };
    println!(
        "wrote {} ({}):\n  test it:  cd {} && {test}\n  build it: mageflow plugin build {}\n  \
         run it:   mageflow plugin run {}/{}.wasm --grants customers:read --input 1",
        dir.display(),
        listed.join(", "),
        dir.display(),
        dir.display(),
        dir.display(),
        name.replace('-', "_"),
    );
    Ok(())
}
