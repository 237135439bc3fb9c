# lit configuration for Cerium's MLIR tests (cerium-opt + FileCheck).
import os

import lit.formats

config.name = "Cerium"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".fhe"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.cerium_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py.in",
                   "unit", "gpu", "e2e", "fuzz", "docs", "Inputs"]
config.environment["PATH"] = os.pathsep.join(
    [config.cerium_tools_dir, config.llvm_tools_dir,
     config.environment.get("PATH", "")])
config.substitutions.append(("%examples", os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "examples")))
# Built with -fsanitize (scripts/sanitize.sh): tests too slow there say
# `UNSUPPORTED: sanitizer`.
if getattr(config, "cerium_sanitize", ""):
    config.available_features.add("sanitizer")
