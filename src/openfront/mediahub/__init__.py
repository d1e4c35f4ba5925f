"""MediaHub: the two-region video portal's API (accounts now; uploads, jobs and playback next).

Pure rules (no I/O): ``names``, ``password_rules``, ``jwt``, ``ratelimit``, ``clientip``.
Shell: ``database``/``models``/``migrations``, ``accounts`` (SQL), ``auth`` (the service),
``routes/`` (aiohttp handlers), ``app``, ``server``.
"""
