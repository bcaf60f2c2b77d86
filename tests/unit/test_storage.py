"""Exclusive moves: two movers of one file, one winner, no false clash."""

import errno
import os

import pytest

from ingest import storage


def test_a_move_never_replaces_another_file(tmp_path):
    src, dst = tmp_path / "a.csv", tmp_path / "done" / "a.csv"
    src.write_text("mine")
    dst.parent.mkdir()
    dst.write_text("someone else's")
    with pytest.raises(FileExistsError):
        storage.move_exclusive(src, dst)
    assert (src.read_text(), dst.read_text()) == ("mine", "someone else's")


def test_losing_a_race_for_the_same_file_is_not_a_clash(tmp_path, monkeypatch):
    """The other mover linked and unlinked it between our link and our look."""
    src, dst = tmp_path / "a.csv", tmp_path / "processing" / "7-a.csv"
    src.write_text("data")
    real_link = os.link

    def other_mover_first(a, b, **kwargs):
        real_link(a, b, **kwargs)  # The other mover's link, so ours fails ...
        os.unlink(a)  # ... and, before we look, its unlink.
        raise FileExistsError(errno.EEXIST, "File exists", str(b))

    monkeypatch.setattr(storage.os, "link", other_mover_first)
    with pytest.raises(FileNotFoundError):
        storage.move_exclusive(src, dst)
    assert dst.read_text() == "data" and not src.exists()


def test_a_move_interrupted_between_link_and_unlink_is_finished(tmp_path):
    src, dst = tmp_path / "a.csv", tmp_path / "processing" / "7-a.csv"
    src.write_text("data")
    dst.parent.mkdir()
    os.link(src, dst)
    storage.move_exclusive(src, dst)
    assert dst.read_text() == "data" and not src.exists()
