"""Limits of the operating system that a patrol of many sites meets."""
from __future__ import annotations


def open_files_limit() -> int:
    """This process's limit of open files, raised to the hard limit first (a run of many sites
    holds a socket for each request in flight of each site; Debian's default soft limit of
    1,024 would fail links with "too many open files", as if they were broken)."""
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            wanted = 1 << 20 if hard == resource.RLIM_INFINITY else hard
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
                soft = wanted
            except (ValueError, OSError):
                pass
        return int(soft)
    except (ImportError, ValueError, OSError):
        return 1024
