#!/usr/bin/env python3
"""Unit tests for tools/spec-coverage. Run: python3 tools/spec_coverage_test.py

Every test builds a small tree of its own in a temporary directory (a catalog under
spec/requirements/, some sources, tests and vectors) and runs the tool on it.
Fixture ids use the prefix "demo" so that this file never cites a real requirement.
"""

import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "spec-coverage")


def load_tool():
    loader = importlib.machinery.SourceFileLoader("spec_coverage", TOOL)
    spec = importlib.util.spec_from_loader("spec_coverage", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


sc = load_tool()


def cite(rid):
    """The bracketed citation form, built at run time so it never appears literally here."""
    return "[" + rid + "]"


def req(rid, status="implemented", level="must", **extra):
    item = {"id": rid, "section": "some-section", "level": level, "status": status,
            "text": "A paraphrase of the rule."}
    item.update(extra)
    return item


class Tree:
    """A throwaway project tree."""

    def __init__(self, testcase):
        self.root = tempfile.mkdtemp(prefix="spec-coverage-test-")
        testcase.addCleanup(shutil.rmtree, self.root, True)

    def write(self, path, text):
        full = os.path.join(self.root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)
        return full

    def catalog(self, requirements, name="demo.json", page="demo",
                url="https://example.org/specs/demo", raw=None):
        doc = {"page": page, "url": url, "requirements": requirements}
        self.write(f"spec/requirements/{name}", raw if raw is not None else json.dumps(doc))

    def vector(self, path, cases):
        self.write(path, json.dumps({"description": "fixture", "cases": cases}, indent=2))

    def run(self, *args):
        """(exit status, stdout, stderr) of an in-process run."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = sc.main(["--root", self.root, *args])
        return status, out.getvalue(), err.getvalue()

    def run_json(self, *args):
        path = os.path.join(self.root, "report.json")
        status, out, err = self.run("--json", path, *args)
        with open(path, encoding="utf-8") as f:
            return status, json.load(f), out

    def path(self, rel):
        return os.path.join(self.root, rel)


def find(report, rid):
    for page in report["pages"]:
        for r in page["requirements"]:
            if r["id"] == rid:
                return r
    raise KeyError(rid)


class CoverageTest(unittest.TestCase):
    def good_tree(self):
        t = Tree(self)
        t.catalog([req("demo.syntax.ok"), req("demo.syntax.later", status="planned",
                                              layer="identity"),
                   req("demo.advice", status="informative", level="should")])
        t.write("reference/demo/thing.hpp", "#pragma once\nint f();  // " +
                cite("demo.syntax.ok") + "\n")
        t.write("reference/demo/thing.cpp",
                "#include \"thing.hpp\"\n\n// " + cite("demo.syntax.ok") + " checked here\n"
                "int f() { return 1; }\n")
        t.write("reference/demo/thing_test.cpp",
                'TEST_CASE("ok rule ' + cite("demo.syntax.ok") + '", "[demo]") {}\n')
        t.vector("vectors/demo/things.json", [
            {"id": "ok-1", "requirements": ["demo.syntax.ok"], "input": "a"},
            {"id": "ok-2", "requirements": ["demo.syntax.ok"], "input": "b"},
            {"id": "later-1", "requirements": ["demo.syntax.later"], "input": "c"}])
        return t

    def test_implemented_and_tested_requirement_counts(self):
        t = self.good_tree()
        status, report, out = t.run_json("--check")
        self.assertEqual(status, 0, out)
        self.assertIn("spec coverage: 3 requirements; implemented 1 (1 with code, 1 tested); "
                      "planned 1; informative 1; 0 problems", out)
        r = find(report, "demo.syntax.ok")
        self.assertEqual(r["state"], "ok")
        self.assertEqual(r["anchor"], "https://example.org/specs/demo#some-section")
        self.assertIn({"file": "reference/demo/thing.cpp", "line": 3}, r["implementation"])
        self.assertIn({"file": "reference/demo/thing.hpp", "line": 2}, r["implementation"])
        self.assertEqual(r["tests"], [{"file": "reference/demo/thing_test.cpp", "line": 1}])
        self.assertEqual(r["case_count"], 2)
        self.assertEqual(r["test_file_count"], 1)
        self.assertEqual([c["case"] for c in r["cases"]], ["ok-1", "ok-2"])
        self.assertTrue(all(c["line"] > 1 for c in r["cases"]))
        # A planned requirement checked by a vector ahead of its code is fine.
        self.assertEqual(find(report, "demo.syntax.later")["case_count"], 1)
        self.assertEqual(report["summary"]["problems"], 0)
        # Text report lists the location and the test counts.
        self.assertIn("reference/demo/thing.cpp:3", out)
        self.assertIn("2 cases, 1 test file", out)

    def test_implemented_without_test_fails_check(self):
        t = self.good_tree()
        os.remove(t.path("reference/demo/thing_test.cpp"))
        os.remove(t.path("vectors/demo/things.json"))
        status, out, _ = t.run()
        self.assertEqual(status, 0, "without --check the report never fails")
        status, out, _ = t.run("--check")
        self.assertEqual(status, 1)
        self.assertIn("demo.syntax.ok: status implemented, but no test", out)
        self.assertIn("1 problem", out)

    def test_implemented_without_code_fails_check(self):
        t = self.good_tree()
        os.remove(t.path("reference/demo/thing.cpp"))
        os.remove(t.path("reference/demo/thing.hpp"))
        status, out, _ = t.run("--check")
        self.assertEqual(status, 1)
        self.assertIn("no implementation code", out)

    def test_unknown_ids_fail_check(self):
        t = self.good_tree()
        t.write("reference/demo/typo.cpp", "// " + cite("demo.syntax.okk") + "\n")
        # A built-in prefix is checked even when the catalog has no entry under it.
        t.write("fuzz/demo_fuzz.cpp", "\n/* " + cite("handle.syntax.nope") + " */\n")
        t.vector("vectors/demo/typo.json", [{"id": "t", "requirements": ["demo.nothing"]}])
        status, out, _ = t.run("--check")
        self.assertEqual(status, 1)
        self.assertIn("reference/demo/typo.cpp:1: unknown requirement id "
                      + cite("demo.syntax.okk") + " (did you mean " + cite("demo.syntax.ok"), out)
        self.assertIn("fuzz/demo_fuzz.cpp:2: unknown requirement id", out)
        self.assertIn("vectors/demo/typo.json:6: unknown requirement id", out)
        self.assertIn("3 problems", out)

    def test_non_citations_are_ignored(self):
        t = self.good_tree()
        t.write("reference/demo/other.cpp",
                "int g(T table, H handle) {\n"
                "  return table" + cite("demo.syntax.bad") + " + v" + cite("handle.size") + ";\n"
                "}\n")
        t.write("reference/demo/tags_test.cpp",
                'TEST_CASE("x", "' + cite("demo.syntax") + '") {}  // a group tag\n'
                '// ' + cite("std.vector") + ' is not one of ours\n')
        t.write("docs/notes.md", cite("demo.missing") + " in prose does not count\n")
        status, out, _ = t.run("--check")
        self.assertEqual(status, 0, out)

    def test_python_comments_and_strings_count(self):
        t = self.good_tree()
        t.write("conformance/suite_test.py", "# " + cite("demo.syntax.ok") + "\n"
                "x = '" + cite("demo.syntax.later") + "'\n")
        status, report, _ = t.run_json("--check")
        self.assertEqual(status, 0)
        self.assertEqual(find(report, "demo.syntax.later")["tests"],
                         [{"file": "conformance/suite_test.py", "line": 2}])

    def test_planned_requirement_cited_by_code_fails_check(self):
        t = self.good_tree()
        t.write("reference/demo/early.cpp", "// " + cite("demo.syntax.later") + "\n")
        t.write("reference/demo/advice.cpp", "\n\n// " + cite("demo.advice") + "\n")
        status, out, _ = t.run("--check")
        self.assertEqual(status, 1)
        self.assertIn("reference/demo/early.cpp:1: implementation cites "
                      + cite("demo.syntax.later") + ", whose status is planned", out)
        self.assertIn("reference/demo/advice.cpp:3:", out)

    def test_withdrawn_requirements(self):
        t = self.good_tree()
        t.catalog([req("demo.old.rule", status="withdrawn", replaced_by="demo.syntax.ok")],
                  name="demo-old.json")
        status, out, _ = t.run("--check")
        self.assertEqual(status, 0, out)
        self.assertIn("withdrawn 1; 0 problems", out)
        t.write("reference/demo/stale.cpp", "// " + cite("demo.old.rule") + "\n")
        status, out, _ = t.run("--check")
        self.assertEqual(status, 1)
        self.assertIn("cites withdrawn requirement " + cite("demo.old.rule") + "; use "
                      + cite("demo.syntax.ok"), out)

    def test_html_report(self):
        t = self.good_tree()
        html_path = t.path("reports/coverage.html")
        os.makedirs(os.path.dirname(html_path))
        status, _, _ = t.run("--html", html_path)
        self.assertEqual(status, 0)
        with open(html_path, encoding="utf-8") as f:
            page = f.read()
        for rid in ("demo.syntax.ok", "demo.syntax.later", "demo.advice"):
            self.assertIn(rid, page)
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        self.assertIn('href="https://example.org/specs/demo#some-section"', page)
        self.assertIn('href="../reference/demo/thing.cpp"', page)
        self.assertIn('<tr class="ok"', page)
        self.assertIn('<tr class="planned"', page)
        self.assertIn("spec coverage: 3 requirements", page)
        self.assertNotIn("<script", page)
        self.assertNotIn("<link", page)
        # With --source-url, code links point at a line of a hosted file.
        t.run("--html", html_path, "--source-url", "https://git.example/blob/main/")
        with open(html_path, encoding="utf-8") as f:
            self.assertIn('href="https://git.example/blob/main/reference/demo/thing.cpp#L3"',
                          f.read())

    def test_html_marks_problem_rows(self):
        t = self.good_tree()
        os.remove(t.path("reference/demo/thing_test.cpp"))
        os.remove(t.path("vectors/demo/things.json"))
        html_path = t.path("out.html")
        status, _, _ = t.run("--check", "--html", html_path)
        self.assertEqual(status, 1)
        with open(html_path, encoding="utf-8") as f:
            page = f.read()
        self.assertIn('<tr class="untested problem" id="demo.syntax.ok"', page)
        self.assertIn("Problems (1)", page)

    def test_invalid_vector_file_is_a_problem(self):
        t = self.good_tree()
        t.write("vectors/demo/broken.json", '{"cases": [{"requirements": ["demo.syntax.ok"]')
        t.vector("vectors/demo/badlist.json", [{"id": "b", "requirements": "demo.syntax.ok"}])
        status, out, _ = t.run("--check")
        self.assertEqual(status, 1)
        self.assertIn("vectors/demo/broken.json: not valid JSON", out)
        self.assertIn("case b: 'requirements' must be a list of id strings", out)

    def test_json_schemas_are_not_cases(self):
        t = self.good_tree()
        schema = {"type": "object", "properties": {"requirements": {
            "type": "array", "items": {"type": "string"}}},
            "examples": [{"requirements": ["demo.nothing"]}]}
        t.write("vectors/schema/cases.json", json.dumps(schema))
        t.write("conformance/suite.schema.json", json.dumps(schema))
        # A dict-valued "requirements" inside a vector file is not a case either.
        t.vector("vectors/demo/described.json", [
            {"id": "d", "meta": {"requirements": {"note": "x"}},
             "requirements": ["demo.syntax.ok"]}])
        status, report, out = t.run_json("--check")
        self.assertEqual(status, 0, out)
        cases = find(report, "demo.syntax.ok")["cases"]
        self.assertIn({"file": "vectors/demo/described.json", "line": 11, "case": "d"}, cases)

    def test_walk_skips_build_and_dependency_folders(self):
        t = self.good_tree()
        for junk in ("build/gen.cpp", "build-asan/gen.cpp", "node_modules/x/y.js",
                     ".git/hooks/z.py"):
            t.write(junk, "// " + cite("demo.syntax.typo") + "\n")
        status, out, _ = t.run("--check")
        self.assertEqual(status, 0, out)

    @unittest.skipUnless(shutil.which("git"), "git not installed")
    def test_git_tree_uses_tracked_and_untracked_but_not_ignored_files(self):
        t = self.good_tree()
        t.write(".gitignore", "/generated/\n")
        t.write("generated/reference_copy.cpp", "// " + cite("demo.syntax.typo") + "\n")
        git = ["git", "-C", t.root, "-c", "user.name=t", "-c", "user.email=t@example.org"]
        subprocess.run(git + ["init", "-q"], check=True)
        subprocess.run(git + ["add", "spec", "reference/demo/thing.cpp"], check=True)
        status, report, out = t.run_json("--check")
        self.assertEqual(status, 0, out)
        self.assertEqual(find(report, "demo.syntax.ok")["case_count"], 2)  # untracked vector

    def test_cli_runs_as_a_program(self):
        t = self.good_tree()
        os.remove(t.path("vectors/demo/things.json"))
        os.remove(t.path("reference/demo/thing_test.cpp"))
        proc = subprocess.run([sys.executable, TOOL, "--root", t.root, "--check", "-q"],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 1)
        self.assertNotIn("== demo", proc.stdout)  # --quiet drops the per-requirement list
        self.assertTrue(proc.stdout.rstrip().endswith("1 problem"), proc.stdout)

    def test_fast_on_a_few_thousand_files(self):
        t = self.good_tree()
        body = "".join(f"// line {i} " + cite("demo.syntax.ok") + "\nint x{i} = a[i];\n"
                       for i in range(40))
        for i in range(3000):
            t.write(f"reference/demo/gen/f{i // 100}/file{i}.cpp", body)
        start = time.monotonic()
        status, _, _ = t.run("-q")
        elapsed = time.monotonic() - start
        self.assertEqual(status, 0)
        self.assertLess(elapsed, 5.0, "scan of 3000 files is far too slow")


class CatalogValidationTest(unittest.TestCase):
    def assertRejected(self, tree, *fragments):
        status, out, err = tree.run()
        self.assertEqual(status, 2, out + err)
        self.assertEqual(out, "", "nothing is reported from a broken catalog")
        for fragment in fragments:
            self.assertIn(fragment, err)

    def test_valid_catalog_loads(self):
        t = Tree(self)
        t.catalog([req("demo.a.b", status="planned", layer="repo", page_url="https://x.org/p")])
        reqs, by_id = sc.load_catalog(t.path("spec/requirements"), t.root)
        self.assertEqual(by_id["demo.a.b"].anchor, "https://x.org/p#some-section")

    def test_not_json(self):
        t = Tree(self)
        t.catalog([], raw="{ not json")
        self.assertRejected(t, "spec/requirements/demo.json: not valid JSON")

    def test_missing_catalog(self):
        self.assertRejected(Tree(self), "catalog directory not found")

    def test_missing_and_unknown_fields(self):
        t = Tree(self)
        item = req("demo.a.b")
        del item["level"]
        item["levle"] = "must"
        t.catalog([item])
        self.assertRejected(t, "(demo.a.b): missing field 'level'", "unknown field 'levle'")

    def test_missing_page_fields(self):
        t = Tree(self)
        t.catalog([], raw=json.dumps({"page": "demo", "requirements": []}))
        self.assertRejected(t, "missing field 'url'")

    def test_bad_values(self):
        t = Tree(self)
        t.catalog([req("demo.a.b", level="required"), req("demo.a.c", status="done"),
                   req("demo.a.d", section="has space"), req("demo.a.e", text=""),
                   req("demo.a.f", replaced_by="demo.a.b")])
        self.assertRejected(t, "level 'required' is not one of must, should, may",
                            "status 'done' is not one of implemented, planned, informative, "
                            "withdrawn", "section 'has space'", "'text' must be a non-empty",
                            "replaced_by is only meaningful with status withdrawn")

    def test_bad_ids(self):
        for bad in ("Demo.a.b", "demo", "demo..b", "demo.a_b", "demo.a-", "1demo.a", "demo.a b"):
            with self.subTest(id=bad):
                t = Tree(self)
                t.catalog([req(bad)])
                self.assertRejected(t, f"id {bad!r} is not")

    def test_duplicate_ids_across_files(self):
        t = Tree(self)
        t.catalog([req("demo.a.b")], name="one.json")
        t.catalog([req("demo.a.b")], name="two.json")
        self.assertRejected(t, "two.json: requirement #1 (demo.a.b): duplicate id 'demo.a.b' "
                               "(first in spec/requirements/one.json)")

    def test_duplicate_keys(self):
        t = Tree(self)
        t.catalog([], raw='{"page": "demo", "page": "again", "url": "https://x.org", '
                          '"requirements": []}')
        self.assertRejected(t, "duplicate key 'page'")

    def test_replaced_by_must_exist(self):
        t = Tree(self)
        t.catalog([req("demo.a.b", status="withdrawn", replaced_by="demo.a.zzz")])
        self.assertRejected(t, "replaced_by names unknown id 'demo.a.zzz'")


if __name__ == "__main__":
    unittest.main(verbosity=2)
