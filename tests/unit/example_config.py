"""config/example.yaml as unit tests use it: the example municipality, here with operators for
the switchboard (#13) whose accounts file is in the test's folder."""

from __future__ import annotations

from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"


def example_with_operators(folder: Path, *operators: str) -> Path:
    """The example written to `folder`/routing.yaml with these operators (ids; their phones
    PJSIP/9001, 9002, …); its path."""
    lines = "".join(
        f"    - {{id: {op}, name: {op.title()} Telefonist, device: PJSIP/{9001 + n}}}\n"
        for n, op in enumerate(operators)
    )
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '  voicemail: "9000@default"\n',
        f'  voicemail: "9000@default"\n  accounts_file: {folder}/operators\n  operators:\n{lines}',
        1,
    )
    path = folder / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return path
