"""Scrapy settings for patrol's crawls.

These are the polite defaults; ``crawler.run.settings_for(job)`` adjusts them from the
configuration (``crawl:`` section) for each run.
"""
BOT_NAME = "patrol"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# An honest User-Agent: who is inspecting, and where to read about it.
USER_AGENT = "Mozilla/5.0 (compatible; patrol/0.1; government website inspection)"
# Inspection covers every public page, as national monitoring does.
ROBOTSTXT_OBEY = False

CONCURRENT_REQUESTS = 16
# Scrapy's downloader, with CONCURRENT_REQUESTS_PER_DOMAIN actually held (crawler/downloader.py).
DOWNLOADER = "crawler.downloader.PoliteDownloader"
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
DOWNLOAD_DELAY_JITTER = 0.5
LOG_INSTALL_ROOT_HANDLER = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 10
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
DOWNLOAD_TIMEOUT = 20
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 0
# One callback output at a time: a response yields few requests, and the default 100
# workers per response cost CPU for nothing.
CONCURRENT_ITEMS = 1

# Breadth first: the homepage's links before deep pages, so max_pages keeps what matters.
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# The spider follows redirects and retries itself (to record chains and honour Retry-After).
REDIRECT_ENABLED = False
RETRY_ENABLED = False
METAREFRESH_ENABLED = False
HTTPERROR_ALLOW_ALL = True
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
# Scrapy re-parses the source of generator callbacks to warn about return values; that costs
# a millisecond per response here and the spider's callbacks return nothing.
WARN_ON_GENERATOR_RETURN_VALUE = False
LOG_LEVEL = "WARNING"
# Scrapy's per-response DEBUG lines are skipped unless LOG_LEVEL shows them (crawler/logformatter.py).
LOG_FORMATTER = "crawler.logformatter.QuietLogFormatter"
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"   # the spider keeps its own seen-set

# The components patrol uses, as Scrapy's *_BASE settings.  Scrapy imports every class a
# component setting names, a disabled (None) one too, to normalise the keys: listing only what
# is used spares each crawl process importing aiohttp (the remote-control extension), the
# telnet console, feed exports and a dozen middlewares it never runs.
DOWNLOADER_MIDDLEWARES_BASE = {
    "scrapy.downloadermiddlewares.downloadtimeout.DownloadTimeoutMiddleware": 350,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": 590,
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": 700,
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": 750,
}
# Left out: DownloaderStats (per-request statistics; the spider counts what it needs),
# DefaultHeaders, UserAgent and HttpAuth (the spider sets its headers on each request), Retry,
# Redirect and MetaRefresh (patrol's own retries; the spider follows redirects to record the
# chain), RobotsTxt, Offsite (the spider keeps its scope), HttpCache.
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.RetryBackoffMiddleware": 550,
}
# None of Scrapy's spider middlewares is needed (the spider allows every status, keeps its
# own depth and referers, and starts with one request); each costs CPU on every response.
SPIDER_MIDDLEWARES_BASE: dict[str, int] = {}
SPIDER_MIDDLEWARES: dict[str, int] = {}
EXTENSIONS_BASE = {
    "scrapy.extensions.corestats.CoreStats": 0,
    "scrapy.extensions.logcount.LogCount": 0,
    "scrapy.extensions.memusage.MemoryUsage": 0,
    "scrapy.extensions.closespider.CloseSpider": 0,
    "scrapy.extensions.throttle.AutoThrottle": 0,
}
EXTENSIONS = {
    "crawler.extensions.Progress": 500,
}

PATROL_RETRIES = 2
PATROL_RETRY_BACKOFF = 1.0
PATROL_MAX_RETRY_AFTER = 60.0
PATROL_MAX_REDIRECTS = 10
PATROL_PROGRESS = False
# Links that are only checked (attachments, images, other sites) go through the lean client
# of crawler/leancheck.py instead of Scrapy's downloader: a third of the URLs, at a fraction
# of the CPU.  crawler.run turns it on only for fast crawls (crawl.fast), where no per-host
# limit or delay has to be shared with Scrapy's downloader.  PATROL_LEAN_CONCURRENCY bounds
# its requests in flight (0: CONCURRENT_REQUESTS).
PATROL_LEAN_CHECKS = False
PATROL_LEAN_CONCURRENCY = 0

# Rendering (scrapy-playwright): crawler.run sets PATROL_RENDERING, DOWNLOAD_HANDLERS and the
# PLAYWRIGHT_* launch options when a site may need it.
PATROL_RENDERING = False
# Render requests go ahead of the crawl's queue: a page waiting for the browser holds back
# the links it reveals.
PATROL_RENDER_PRIORITY = 100
PLAYWRIGHT_BROWSER_TYPE = "chromium"
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = 20000
