# Conan 2 recipe for mfakit, a header-only library, written to the
# conventions of conan-center-index's header-only template: header-library
# package type, one package id for every configuration, a C++20 check in
# validate(), headers and license copied by package().
#
# The recipe lives in cmake/packaging/conan/ and packages the checkout it
# sits in (three levels up); CMakeLists.txt's project(VERSION) is the only
# place the version is written. From the repository root:
#   conan create cmake/packaging/conan --build=missing
# (tests/package/check_conan_recipe.py checks the recipe without Conan.)
#
# Options with_sqlite and with_postgresql add the store components
# mfakit::sqlite and mfakit::postgresql (CMakeDeps components of the mfakit
# package, with sqlite3 and libpq as their requirements):
#   conan create cmake/packaging/conan -o "mfakit/*:with_sqlite=True" -o "mfakit/*:with_postgresql=True"
import os
import re

from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.files import copy, load
from conan.tools.layout import basic_layout
from conan.tools.scm import Version

required_conan_version = ">=2.0"


class MfakitConan(ConanFile):
    name = "mfakit"
    description = ("Header-only C++20 two-factor authentication: HOTP/TOTP, "
                   "backup codes and the enable/login flow")
    license = "MIT"
    url = "https://example.invalid/mfakit"
    homepage = "https://example.invalid/mfakit"
    topics = ("2fa", "totp", "hotp", "otp", "authentication", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"with_sqlite": [True, False], "with_postgresql": [True, False]}
    default_options = {"with_sqlite": False, "with_postgresql": False}
    no_copy_source = True

    # The oldest compilers whose C++20 (concepts, std::span) mfakit builds with.
    _minimum_compilers = {"gcc": "12", "clang": "14", "apple-clang": "15", "msvc": "193"}

    @property
    def _repository_root(self):
        return os.path.normpath(os.path.join(self.recipe_folder, "..", "..", ".."))

    def set_version(self):
        cmakelists = load(self, os.path.join(self._repository_root, "CMakeLists.txt"))
        match = re.search(r"project\(\s*mfakit\s+VERSION\s+(\d+\.\d+\.\d+)", cmakelists)
        if not match:
            raise ConanInvalidConfiguration("no project(mfakit VERSION x.y.z) in CMakeLists.txt")
        self.version = match.group(1)

    def export_sources(self):
        root = self._repository_root
        copy(self, "*.hpp", os.path.join(root, "include"), os.path.join(self.export_sources_folder, "include"))
        copy(self, "LICENSE", root, self.export_sources_folder)

    def layout(self):
        basic_layout(self, src_folder=".")

    def requirements(self):
        # The public headers include OpenSSL and fmt, so both are transitive.
        self.requires("openssl/[>=3.0 <4]")
        self.requires("fmt/[>=9 <12]")
        # The store components' headers include sqlite3.h / libpq-fe.h.
        if self.options.with_sqlite:
            self.requires("sqlite3/[>=3.35 <4]")
        if self.options.with_postgresql:
            self.requires("libpq/[>=13 <18]")

    def package_id(self):
        # Every header is packaged whatever the options; they only add
        # requirements and components.
        self.info.clear()

    def validate(self):
        check_min_cppstd(self, 20)
        compiler = str(self.settings.compiler)
        minimum = self._minimum_compilers.get(compiler)
        if minimum and Version(self.settings.compiler.version) < minimum:
            raise ConanInvalidConfiguration(f"{self.ref} needs C++20 support from {compiler} {minimum} or newer")

    def build(self):
        pass

    def package(self):
        copy(self, "LICENSE", self.source_folder, os.path.join(self.package_folder, "licenses"))
        copy(self, "*.hpp", os.path.join(self.source_folder, "include"), os.path.join(self.package_folder, "include"))

    def package_info(self):
        self.cpp_info.set_property("cmake_file_name", "mfakit")
        self.cpp_info.set_property("cmake_target_name", "mfakit::mfakit")
        self.cpp_info.set_property("pkg_config_name", "mfakit")
        self.cpp_info.bindirs = []
        self.cpp_info.libdirs = []
        # The core keeps the package's own target name (as fmt's recipe does).
        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "mfakit::mfakit")
        core.set_property("pkg_config_name", "mfakit")
        core.requires = ["openssl::crypto", "fmt::fmt"]
        core.bindirs = []
        core.libdirs = []
        stores = (("with_sqlite", "sqlite", "sqlite3::sqlite3"), ("with_postgresql", "postgresql", "libpq::libpq"))
        for option, name, requirement in stores:
            if self.options.get_safe(option):
                component = self.cpp_info.components[name]
                component.set_property("cmake_target_name", f"mfakit::{name}")
                component.set_property("pkg_config_name", f"mfakit-{name}")
                component.requires = ["core", requirement]
                component.system_libs = ["pthread"] if self.settings.os in ("Linux", "FreeBSD") else []
                component.bindirs = []
                component.libdirs = []
