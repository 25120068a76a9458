"""Scrapy side of benches/src/bin/crawl_bench.rs: the same site, the same extraction.

List pages → item links (`ul.list a`) and the next page (`a.next`) → detail pages → title, time,
source, column and site from the gov-CMS meta tags, text from the content container; items written
as JSON Lines. Prints one JSON line with pages fetched, wall time, CPU (getrusage) and peak RSS.
"""

import argparse
import json
import resource
import time
from datetime import datetime, timedelta, timezone

import scrapy
from scrapy.crawler import CrawlerProcess

CST = timezone(timedelta(hours=8))


class GovSpider(scrapy.Spider):
    name = "gov"

    def __init__(self, start, **kw):
        super().__init__(**kw)
        self.start_urls = [start]

    def parse(self, response):
        for href in response.css("ul.list a::attr(href)").getall():
            yield response.follow(href, callback=self.parse_detail)
        nxt = response.css("a.next::attr(href)").get()
        if nxt:
            yield response.follow(nxt, callback=self.parse)

    def parse_detail(self, response):
        meta = lambda name: response.xpath(f'//meta[@name="{name}"]/@content').get()
        paras = [p.strip() for p in response.css(".article-content p::text").getall()]
        published = meta("PubDate")
        if published:
            published = datetime.strptime(published, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).isoformat()
        now = datetime.now(CST).isoformat()
        yield {
            "id": response.url,
            "source": "bench-portal",
            "platform": "portal",
            "url": response.url,
            "title": meta("ArticleTitle"),
            "text": "\n".join(p for p in paras if p),
            "author": meta("ContentSource"),
            "published_at": published or now,
            "observed_at": now,
            "site": meta("SiteName"),
            "column": meta("ColumnName"),
            "author_kind": "official" if meta("SiteIDCode") else None,
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--start", required=True)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    process = CrawlerProcess(
        settings={
            "BOT_NAME": "yuqing-bench",
            "USER_AGENT": "yuqing-bench-scrapy (+https://github.com/yuqing-project/yuqing)",
            "ROBOTSTXT_OBEY": True,
            "CONCURRENT_REQUESTS": args.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": args.concurrency,
            "DOWNLOAD_DELAY": 0,
            "AUTOTHROTTLE_ENABLED": False,
            "COOKIES_ENABLED": False,
            "TELNETCONSOLE_ENABLED": False,
            "LOG_LEVEL": "WARNING",
            "FEEDS": {args.out: {"format": "jsonlines", "encoding": "utf8", "overwrite": True}},
        }
    )
    crawler = process.create_crawler(GovSpider)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    process.crawl(crawler, start=args.start)
    process.start()
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    stats = crawler.stats.get_stats()
    print(
        json.dumps(
            {
                "version": scrapy.__version__,
                "pages_fetched": stats.get("downloader/response_count", 0),
                "items": stats.get("item_scraped_count", 0),
                "wall_s": wall,
                "cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
                "peak_rss_mb": r1.ru_maxrss / 1024.0,
            }
        )
    )


if __name__ == "__main__":
    main()
