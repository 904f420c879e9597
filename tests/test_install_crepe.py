"""tools/install_crepe.py: the pinned archive, the index it asks, the cache."""
import hashlib

from tools_path import install_crepe


def test_index_url_follows_pip_index_url(monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "https://mirror.example/simple/")
    assert install_crepe.index_url() == "https://mirror.example/simple"


def test_a_cached_archive_with_the_right_hash_is_reused_without_network(tmp_path, monkeypatch):
    payload = b"pretend archive"
    monkeypatch.setattr(install_crepe, "SHA256", hashlib.sha256(payload).hexdigest())
    (tmp_path / install_crepe.ARCHIVE).write_bytes(payload)

    def no_network(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(install_crepe.urllib.request, "urlopen", no_network)
    assert install_crepe.fetch_archive(tmp_path) == tmp_path / install_crepe.ARCHIVE
