"""Write article files for tests."""

from pathlib import Path


def write_article(root: Path, name: str, title: str | None = "标题", body: str = "正文。",
                  **fields: str) -> Path:
    """Write a Markdown article with front matter under `root` and return its path."""
    lines = ["---"]
    if title is not None:
        lines.append(f"title: {title}")
    lines += [f"{key}: {value}" for key, value in fields.items()]
    lines += ["---", body]
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
