//! `mageflow plugin new NAME --lang rust|python`: a plugin project that builds and runs as it
//! is. Its `run` counts the customers of a group, page by page (Magento caps a page at 300),
//! logs each page and reports the count; a native unit test checks the paging; and its
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

fn rust_files(name: &str) -> Result<Vec<(&'static str, String)>, Usage> {
    let sdk = sdk_path()?;
    let crate_name = name.replace('-', "_");
    Ok(vec![
        (
            "Cargo.toml",
            format!(
                "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
                 publish = false\n\n[lib]\ncrate-type = [\"cdylib\", \"rlib\"]\n\n\
                 [dependencies]\nmageflow-sdk = {{ path = {:?} }}\n\n\
                 # A project of its own, not a member of a workspace above it.\n[workspace]\n",
                sdk.display().to_string()
            ),
        ),
        (
            "src/lib.rs",
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
            "workflow.toml",
            workflow_toml(name, &format!("{crate_name}.wasm")),
        ),
    ])
}

fn python_files(name: &str) -> Vec<(&'static str, String)> {
    let module = name.replace('-', "_");
    vec![
        (
            "count.py",
            "\"\"\"What the plugin does, apart from Magento, so it can be tested natively.\"\"\"\n\n\
             PAGE_SIZE = 300  # Magento's cap\n\n\n\
             def count_pages(fetch, log):\n\
             \x20   \"\"\"Counts the items of every page `fetch(page)` answers as (items, total).\"\"\"\n\
             \x20   seen, page = 0, 1\n\
             \x20   while True:\n\
             \x20       items, total = fetch(page)\n\
             \x20       seen += len(items)\n\
             \x20       if items:\n\
             \x20           log(f\"page {page}: {len(items)} customers\")\n\
             \x20       # Stop at the total, an empty page or a short one: never loop past the end.\n\
             \x20       if not items or seen >= total or len(items) < PAGE_SIZE:\n\
             \x20           return seen\n\
             \x20       page += 1\n"
                .to_owned(),
        ),
        (
            "app.py",
            format!(
                "\"\"\"{name}: counts the customers of a group, page by page, and reports how many.\n\
                 Manual input: the group id, such as 1.\"\"\"\n\n\
                 import wit_world\n\
                 from componentize_py_types import Err\n\
                 from wit_world.imports import customers, runtime, types\n\n\
                 from count import PAGE_SIZE, count_pages\n\n\n\
                 def fetch(group):\n\
                 \x20   def page(n):\n\
                 \x20       criteria = types.SearchCriteria(\n\
                 \x20           groups=[[types.Filter(\"group_id\", types.Condition.EQ, str(group))]],\n\
                 \x20           sort=[types.SortOrder(\"entity_id\", False)],\n\
                 \x20           page_size=PAGE_SIZE,\n\
                 \x20           current_page=n,\n\
                 \x20       )\n\
                 \x20       got = customers.search(criteria)\n\
                 \x20       return got.items, got.total_count\n\n\
                 \x20   return page\n\n\n\
                 def log(line):\n\
                 \x20   runtime.log(runtime.Level.INFO, line)\n\n\n\
                 class WitWorld(wit_world.WitWorld):\n\
                 \x20   def run(self, trigger: types.Trigger) -> types.Outcome:\n\
                 \x20       if not isinstance(trigger, types.Trigger_Manual):\n\
                 \x20           raise Err(\"{name} runs by hand, with a group id as input\")\n\
                 \x20       try:\n\
                 \x20           group = int(trigger.value.strip())\n\
                 \x20       except ValueError:\n\
                 \x20           raise Err(f\"the input must be a group id, not {{trigger.value!r}}\")\n\
                 \x20       count = count_pages(fetch(group), log)\n\
                 \x20       return types.Outcome(summary=f\"{{count}} customers in group {{group}}\", output_json=None)\n"
            ),
        ),
        (
            "test_count.py",
            "\"\"\"Native tests: `python3 -m unittest` in this folder.\"\"\"\n\n\
             import unittest\n\n\
             from count import PAGE_SIZE, count_pages\n\n\n\
             class CountPages(unittest.TestCase):\n\
             \x20   def test_counts_over_every_page(self):\n\
             \x20       # 700 customers: pages of 300, 300 and 100.\n\
             \x20       total = 700\n\
             \x20       asked, lines = [], []\n\n\
             \x20       def fetch(page):\n\
             \x20           asked.append(page)\n\
             \x20           start = (page - 1) * PAGE_SIZE\n\
             \x20           return list(range(start, min(start + PAGE_SIZE, total))), total\n\n\
             \x20       self.assertEqual(count_pages(fetch, lines.append), 700)\n\
             \x20       self.assertEqual(asked, [1, 2, 3])\n\
             \x20       self.assertEqual(len(lines), 3)\n\n\
             \x20   def test_an_empty_group_asks_once(self):\n\
             \x20       self.assertEqual(count_pages(lambda page: ([], 0), print), 0)\n\n\n\
             if __name__ == \"__main__\":\n\
             \x20   unittest.main()\n"
                .to_owned(),
        ),
        ("workflow.toml", workflow_toml(name, &format!("{module}.wasm"))),
    ]
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
    };
    for (file, text) in &files {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().expect("a file has a folder"))?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let test = match lang {
        Lang::Rust => "cargo test",
        Lang::Python => "python3 -m unittest",
    };
    println!(
        "wrote {} ({}):\n  test it:  cd {} && {test}\n  build it: mageflow plugin build {}\n  \
         run it:   mageflow plugin run {}/{}.wasm --grants customers:read --input 1",
        dir.display(),
        files.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", "),
        dir.display(),
        dir.display(),
        dir.display(),
        name.replace('-', "_"),
    );
    Ok(())
}
