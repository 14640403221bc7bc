"""Type-check the README's examples: every ```python block of README.md,
each as a module of its own, under mypy --strict (with pyproject.toml's
[tool.mypy] settings, so fastchan is found in python/).

    python tests/typing/check_readme.py [README.md]

Exit status: mypy's (0 when every block passes). A failure names the
block by its first line in README.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(text: str) -> list[tuple[int, str]]:
    """(line in the file where the code starts, code) of each python block."""
    return [(text.count("\n", 0, match.start(1)) + 1, match.group(1)) for match in BLOCK.finditer(text)]


def main(argv: list[str]) -> int:
    readme = argv[1] if len(argv) > 1 else os.path.join(ROOT, "README.md")
    with open(readme, encoding="utf-8") as file:
        found = blocks(file.read())
    if not found:
        print(f"{readme}: no python blocks")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for line, code in found:
            # One module per block, named by its line: mypy's messages then say where it is.
            path = os.path.join(folder, f"readme_line_{line}.py")
            with open(path, "w", encoding="utf-8") as file:
                file.write(code)
            paths.append(path)
        command = [sys.executable, "-m", "mypy", "--strict", "--config-file", os.path.join(ROOT, "pyproject.toml"),
                   "--no-incremental", *paths]
        env = dict(os.environ, MYPYPATH=os.path.join(ROOT, "python"))
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        print(result.stdout.replace(folder + os.sep, "README.md block at "), end="")
        print(result.stderr, end="", file=sys.stderr)
        return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
