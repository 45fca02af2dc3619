#!/usr/bin/env python3
"""Checks cmake/packaging/conan/conanfile.py without Conan (which cannot be
installed on the CI machine).

Conan's own modules are replaced by small stand-ins on sys.path, just enough
to import the recipe and call its methods the way Conan 2 would. The checks:
  - the file parses (ast) and imports only Conan 2 API (no `conans`);
  - the conan-center conventions for a header-only recipe: header-library,
    no_copy_source, package_id() clears the info, validate() asks for C++20
    and refuses older compilers, bindirs/libdirs empty;
  - set_version() reads exactly the CMake project version;
  - export_sources() + package() produce the same include/ tree as
    `cmake --install`'s (the source headers), plus licenses/LICENSE;
  - requirements and package_info name OpenSSL (crypto only) and fmt, and
    the CMake file/target names consumers use (mfakit, mfakit::mfakit);
  - the options with_sqlite / with_postgresql (off by default) add sqlite3 /
    libpq and the components mfakit::sqlite / mfakit::postgresql.
What it cannot show: that Conan resolves the dependency graph or that
CMakeDeps's generated config links; see tests/package/README.md.
"""
import argparse
import ast
import collections
import filecmp
import fnmatch
import importlib.util
import os
import shutil
import sys
import types

failures = []


def check(ok, what):
    print(("ok      " if ok else "FAILED  ") + what)
    if not ok:
        failures.append(what)


# --- stand-ins for the Conan 2 modules the recipe imports --------------------------

class ConanInvalidConfiguration(Exception):
    pass


class ConanException(Exception):
    pass


class _Version:
    """conan.tools.scm.Version: dotted numeric comparison is all we need."""

    def __init__(self, value):
        self.parts = tuple(int(p) for p in str(value).split("."))

    def _other(self, other):
        return other if isinstance(other, _Version) else _Version(other)

    def __lt__(self, other):
        return self.parts < self._other(other).parts

    def __ge__(self, other):
        return not self < other


def _load(conanfile, path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _copy(conanfile, pattern, src, dst, keep_path=True):
    """conan.tools.files.copy: the pattern is matched against each file's
    path relative to src (fnmatch, so '*' also crosses '/')."""
    copied = []
    if not any(c in pattern for c in "*?["):  # a plain name: no need to walk the tree
        candidates = [(os.path.dirname(os.path.join(src, pattern)), [os.path.basename(pattern)])]
    else:
        candidates = ((root, files) for root, _dirs, files in os.walk(src))
    for root, files in candidates:
        for name in files:
            full = os.path.join(root, name)
            if not os.path.isfile(full):
                continue
            rel = os.path.relpath(full, src)
            if fnmatch.fnmatch(rel, pattern):
                target = os.path.join(dst, rel if keep_path else name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(full, target)
                copied.append(target)
    return copied


min_cppstd_calls = []


def _check_min_cppstd(conanfile, cppstd):
    min_cppstd_calls.append(str(cppstd))
    current = conanfile.settings.compiler.cppstd
    if current is not None and int(str(current).replace("gnu", "")) < int(cppstd):
        raise ConanInvalidConfiguration(f"needs C++{cppstd}")


def _basic_layout(conanfile, src_folder="."):
    conanfile.layout_src_folder = src_folder


class _ConanFile:
    """conan.ConanFile, reduced to the attributes the recipe touches."""
    name = None
    version = None


def install_stubs():
    modules = {
        "conan": types.ModuleType("conan"),
        "conan.errors": types.ModuleType("conan.errors"),
        "conan.tools": types.ModuleType("conan.tools"),
        "conan.tools.build": types.ModuleType("conan.tools.build"),
        "conan.tools.files": types.ModuleType("conan.tools.files"),
        "conan.tools.layout": types.ModuleType("conan.tools.layout"),
        "conan.tools.scm": types.ModuleType("conan.tools.scm"),
    }
    modules["conan"].ConanFile = _ConanFile
    modules["conan.errors"].ConanInvalidConfiguration = ConanInvalidConfiguration
    modules["conan.errors"].ConanException = ConanException
    modules["conan.tools.build"].check_min_cppstd = _check_min_cppstd
    modules["conan.tools.files"].copy = _copy
    modules["conan.tools.files"].load = _load
    modules["conan.tools.layout"].basic_layout = _basic_layout
    modules["conan.tools.scm"].Version = _Version
    sys.modules.update(modules)


class _Setting:
    def __init__(self, value):
        self.value = value

    def __str__(self):
        return str(self.value)

    def __eq__(self, other):
        return str(self.value) == str(other)


class _Compiler(_Setting):
    def __init__(self, name, version, cppstd):
        super().__init__(name)
        self.version = _Setting(version)
        self.cppstd = None if cppstd is None else _Setting(cppstd)


class _Settings:
    def __init__(self, compiler, version, cppstd):
        self.os = _Setting("Linux")
        self.arch = _Setting("x86_64")
        self.build_type = _Setting("Release")
        self.compiler = _Compiler(compiler, version, cppstd)


class _Info:
    def __init__(self):
        self.cleared = False

    def clear(self):
        self.cleared = True


class _CppInfo:
    def __init__(self, root=True):
        self.properties = {}
        self.requires = []
        self.system_libs = []
        self.bindirs = ["bin"]
        self.libdirs = ["lib"]
        self.includedirs = ["include"]
        if root:
            self.components = collections.defaultdict(lambda: _CppInfo(root=False))

    def set_property(self, key, value):
        self.properties[key] = value


class _Options:
    """self.options: the recipe's default_options, overridden by `values`."""

    def __init__(self, defaults, values):
        self.__dict__.update(defaults)
        self.__dict__.update(values)

    def get_safe(self, name, default=None):
        return self.__dict__.get(name, default)


def make_recipe(cls, recipe_folder, options=None, **settings):
    r = cls()
    r.options = _Options(dict(getattr(cls, "default_options", {})), options or {})
    r.recipe_folder = recipe_folder
    r.requires_calls = []
    r.requires = lambda ref, **kw: r.requires_calls.append(ref)
    r.settings = _Settings(settings.get("compiler", "gcc"), settings.get("version", "12"),
                           settings.get("cppstd", "20"))
    r.info = _Info()
    r.cpp_info = _CppInfo()
    r.ref = "mfakit/test"
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipe", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--cmake-version", required=True)
    ap.add_argument("--work", required=True)
    args = ap.parse_args()

    with open(args.recipe, encoding="utf-8") as f:
        text = f.read()
    tree = ast.parse(text, filename=args.recipe)
    check(True, "the recipe parses")
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            imported.update(a.name.split(".")[0] for a in node.names)
    check("conans" not in imported, "no Conan 1 imports (from conans ...)")
    check("conan" in imported, "imports the Conan 2 API (from conan ...)")
    assigns = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
               for t in node.targets if isinstance(t, ast.Name)}
    required = assigns.get("required_conan_version")
    check(isinstance(required, ast.Constant) and str(required.value).startswith(">=2"),
          "required_conan_version is >=2.x")

    install_stubs()
    spec = importlib.util.spec_from_file_location("mfakit_conanfile", args.recipe)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    recipes = [v for v in vars(module).values()
               if isinstance(v, type) and issubclass(v, _ConanFile) and v is not _ConanFile]
    check(len(recipes) == 1, "exactly one ConanFile class")
    cls = recipes[0]
    recipe_folder = os.path.dirname(os.path.abspath(args.recipe))

    # attributes
    check(cls.name == "mfakit", "name is mfakit")
    check(getattr(cls, "package_type", None) == "header-library", "package_type is header-library")
    check(getattr(cls, "no_copy_source", False) is True, "no_copy_source = True")
    check(set(getattr(cls, "settings", ())) == {"os", "arch", "compiler", "build_type"},
          "settings are os, arch, compiler, build_type (cleared in package_id)")
    check(getattr(cls, "license", None) == "MIT", "license MIT (as LICENSE)")
    with open(os.path.join(args.source, "LICENSE"), encoding="utf-8") as f:
        check(f.readline().strip() == "MIT License", "LICENSE is the MIT license the recipe names")

    # version
    r = make_recipe(cls, recipe_folder)
    r.set_version()
    check(r.version == args.cmake_version,
          f"set_version() reads {r.version!r}, CMake project version is {args.cmake_version!r}")

    # package id and validation
    r = make_recipe(cls, recipe_folder)
    r.package_id()
    check(r.info.cleared, "package_id() clears the info (one package for all configurations)")
    del min_cppstd_calls[:]
    make_recipe(cls, recipe_folder).validate()
    check(min_cppstd_calls == ["20"], "validate() calls check_min_cppstd(self, 20)")
    for compiler, version, cppstd, ok in [("gcc", "12", "20", True), ("gcc", "13", "gnu20", True),
                                          ("clang", "14", "20", True), ("gcc", "12", "17", False),
                                          ("gcc", "11", "20", False), ("clang", "13", "20", False)]:
        try:
            make_recipe(cls, recipe_folder, compiler=compiler, version=version, cppstd=cppstd).validate()
            accepted = True
        except ConanInvalidConfiguration:
            accepted = False
        check(accepted == ok, f"validate() {'accepts' if ok else 'refuses'} {compiler} {version} cppstd={cppstd}")

    # requirements
    r = make_recipe(cls, recipe_folder)
    r.requirements()
    names = sorted(ref.split("/")[0] for ref in r.requires_calls)
    check(names == ["fmt", "openssl"], f"requires openssl and fmt only (got {r.requires_calls})")
    for ref in r.requires_calls:
        if ref.startswith("openssl/"):
            check(">=3" in ref, f"OpenSSL 3 is the minimum ({ref})")

    # export_sources + package: the same headers as cmake --install
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    r = make_recipe(cls, recipe_folder)
    r.export_sources_folder = os.path.join(work, "export_source")
    os.makedirs(r.export_sources_folder)
    r.export_sources()
    r = make_recipe(cls, recipe_folder)
    r.layout()
    r.source_folder = os.path.join(work, "export_source")
    r.package_folder = os.path.join(work, "package")
    r.build()
    r.package()
    packaged = sorted(os.path.relpath(os.path.join(d, f), r.package_folder)
                      for d, _, fs in os.walk(r.package_folder) for f in fs)
    src_include = os.path.join(args.source, "include")
    headers = sorted(os.path.join("include", os.path.relpath(os.path.join(d, f), src_include))
                     for d, _, fs in os.walk(src_include) for f in fs if f.endswith(".hpp"))
    check(packaged == sorted(headers + ["licenses/LICENSE"]),
          f"package() holds exactly the {len(headers)} public headers and licenses/LICENSE")
    same = all(filecmp.cmp(os.path.join(args.source, h), os.path.join(r.package_folder, h), shallow=False)
               for h in headers if os.path.exists(os.path.join(r.package_folder, h)))
    check(same, "packaged headers are byte-identical to the sources")

    # package_info
    r = make_recipe(cls, recipe_folder)
    r.package_info()
    props = r.cpp_info.properties
    check(props.get("cmake_file_name") == "mfakit", "cmake_file_name is mfakit (find_package(mfakit))")
    check(props.get("cmake_target_name") == "mfakit::mfakit", "cmake_target_name is mfakit::mfakit")
    check(props.get("pkg_config_name") == "mfakit", "pkg_config_name is mfakit (as mfakit.pc)")
    core = r.cpp_info.components.get("core")
    check(core is not None and sorted(core.requires) == ["fmt::fmt", "openssl::crypto"],
          f"the core component links openssl::crypto (not ssl) and fmt (got {core and core.requires})")
    check(core is not None and core.properties.get("cmake_target_name") == "mfakit::mfakit"
          and core.properties.get("pkg_config_name") == "mfakit", "the core component is mfakit::mfakit / mfakit.pc")
    check(sorted(r.cpp_info.components) == ["core"], "no store component by default")
    check(r.cpp_info.bindirs == [] and r.cpp_info.libdirs == [], "no bindirs/libdirs for a header-only package")

    # the store components, as options
    defaults = dict(getattr(cls, "default_options", {}))
    check(defaults == {"with_sqlite": False, "with_postgresql": False},
          f"options with_sqlite and with_postgresql, off by default (got {defaults})")
    on = {"with_sqlite": True, "with_postgresql": True}
    r = make_recipe(cls, recipe_folder, options=on)
    r.requirements()
    names = sorted(ref.split("/")[0] for ref in r.requires_calls)
    check(names == ["fmt", "libpq", "openssl", "sqlite3"], f"with both options: + sqlite3 and libpq (got {names})")
    r = make_recipe(cls, recipe_folder, options=on)
    r.package_info()
    comps = r.cpp_info.components
    for name, requirement, header in (("sqlite", "sqlite3::sqlite3", "sqlite.hpp"),
                                      ("postgresql", "libpq::libpq", "postgresql.hpp")):
        c = comps.get(name)
        check(c is not None and c.properties.get("cmake_target_name") == f"mfakit::{name}"
              and c.properties.get("pkg_config_name") == f"mfakit-{name}" and sorted(c.requires) == sorted(["core", requirement])
              and c.bindirs == [] and c.libdirs == [],
              f"component {name}: mfakit::{name}, mfakit-{name}.pc, requires core and {requirement}")
        check(os.path.isfile(os.path.join(args.source, "include", "mfakit", "stores", header)),
              f"the {name} component's header mfakit/stores/{header} exists")
    r = make_recipe(cls, recipe_folder, options={"with_sqlite": True})
    r.package_info()
    check(sorted(r.cpp_info.components) == ["core", "sqlite"], "with_sqlite alone: core and sqlite only")

    # test_package layout (Conan runs it after `conan create`)
    tp = os.path.join(recipe_folder, "test_package")
    for f in ("conanfile.py", "CMakeLists.txt", "test_package.cpp"):
        check(os.path.isfile(os.path.join(tp, f)), f"test_package/{f} exists")
    with open(os.path.join(tp, "conanfile.py"), encoding="utf-8") as f:
        tp_text = f.read()
    ast.parse(tp_text)
    check("tested_reference_str" in tp_text and "CMakeDeps" in tp_text and "can_run" in tp_text,
          "test_package requires tested_reference_str, uses CMakeDeps, runs only when it can")

    if failures:
        print(f"\n{len(failures)} check(s) failed")
        return 1
    print("\nall Conan recipe checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
