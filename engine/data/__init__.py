"""Qt-free dataset utilities: checking, splitting and summarising COCO annotation files."""

from engine.data.split import SPLITS, resolve_annotations, split_coco, split_summary

__all__ = ["SPLITS", "resolve_annotations", "split_coco", "split_summary"]
