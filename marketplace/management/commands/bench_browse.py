"""Temporary runner for the browse benchmark (the shared `bench` command will call it)."""

import sys

from django.core.management.base import BaseCommand

from marketplace.benchmarks import browse


class Command(BaseCommand):
    help = "Seed products on PostgreSQL and time browse and search."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--products", type=int, default=100_000)

    def handle(self, *args, products: int, **options) -> None:
        browse.main(sys.stdout, products=products)
