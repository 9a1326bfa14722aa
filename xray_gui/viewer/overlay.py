"""The findings overlay: masks, boxes and labels of one scan's objects drawn over the ScanView.

It only draws what it is given (the review store's merged view of model findings and analyst
decisions) and reports what the analyst does with the mouse: which object was clicked, and the
new box after a selected box was moved or resized. Anomalous objects are red, benign ones a calm
blue; the model's untouched findings are dashed, the analyst's confirmed ones solid, rejected
ones faint grey without a mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsSimpleTextItem

from engine.colour import ANOMALY_RGB, BENIGN_RGB

if TYPE_CHECKING:
    from xray_gui.review import ReviewObject
    from xray_gui.viewer.scan_view import ScanView

REJECTED_RGB = (150, 150, 150)
SELECTED_RGB = (255, 230, 0)
STATUS_MARKS = {"pending": "", "accepted": " ✓", "corrected": " ✎", "added": " +", "rejected": " ✗"}
MASK_ALPHA = {True: 100, False: 60}  # anomalous masks stand out more


class ObjectLabel(QGraphicsRectItem):
    """A label that keeps its screen size at any zoom, sitting just above its anchor point.

    Plain Qt items (not pyqtgraph's TextItem) under one parent: a hundred of them draw in a few
    milliseconds, where TextItems took most of a frame to make and follow every view change.
    """

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setBrush(QBrush(QColor(0, 0, 0, 200)))
        self.setPen(pg.mkPen(None))
        self.text = QGraphicsSimpleTextItem(self)

    def set_text(self, text: str, colour: tuple[int, int, int]) -> None:
        self.text.setText(text)
        self.text.setBrush(QBrush(QColor(*colour)))
        box = self.text.boundingRect()
        self.text.setPos(2, -box.height() - 1)
        self.setRect(QRectF(0, -box.height() - 2, box.width() + 4, box.height() + 2))


@dataclass
class DrawnObject:
    """The graphics items of one object, kept so tests and hover can find them."""

    obj: ReviewObject
    rect: QGraphicsRectItem
    text: ObjectLabel
    colour: tuple[int, int, int]


def object_colour(obj: ReviewObject) -> tuple[int, int, int]:
    if obj.status == "rejected":
        return REJECTED_RGB
    return ANOMALY_RGB if obj.anomalous else BENIGN_RGB


def describe(obj: ReviewObject) -> str:
    """One line about an object, as the hover read-out and tooltips show it."""
    parts = [obj.label]
    if obj.score is not None:
        parts.append(f"score {obj.score:.2f}")
    if obj.anomaly_score is not None:
        parts.append(f"anomaly {obj.anomaly_score:.2f}")
    parts.append("ANOMALOUS" if obj.anomalous else "benign")
    who = "model" if obj.source == "model" else "analyst"
    parts.append(f"{obj.status} ({who}, {obj.id})")
    return " · ".join(parts)


class FindingsOverlay(QObject):
    """Draws ReviewObjects on a ScanView; the selected one gets handles to move and resize it."""

    selectionChanged = Signal(str)  # object id, "" for none
    boxEdited = Signal(str, object)  # object id, (x0, y0, x1, y1) after a move or resize

    def __init__(self, view: ScanView) -> None:
        super().__init__(view)
        self.view = view
        self.view_box = view.view_box
        self.mask_item = pg.ImageItem(axisOrder="row-major")
        self.mask_item.setZValue(10)
        self.view_box.addItem(self.mask_item, ignoreBounds=True)
        self.drawn: dict[str, DrawnObject] = {}
        # every box and label hangs under this one item: adding items to a ViewBox is slow
        self.layer = QGraphicsRectItem()
        self.layer.setPen(pg.mkPen(None))
        self.layer.setZValue(20)
        self.view_box.addItem(self.layer, ignoreBounds=True)
        self._pool: list[tuple[QGraphicsRectItem, ObjectLabel]] = []  # hidden items to reuse
        self.selected: str | None = None
        self.roi: pg.ROI | None = None
        self.mask_rgba: np.ndarray | None = None
        self._objects: list[ReviewObject] = []

    # ----- drawing ------------------------------------------------------------------------
    def show_objects(self, objects: Sequence[ReviewObject], selected: str | None = None) -> None:
        """Replace what is drawn by `objects` (those with visible=False are left out)."""
        self._remove_items()
        self._objects = [o for o in objects if o.visible]
        if selected not in {o.id for o in self._objects}:
            selected = None
        self.selected = selected
        self._draw_masks()
        for obj in sorted(self._objects, key=lambda o: (o.status != "rejected", o.anomalous)):
            self._draw_object(obj)
        if selected is not None:
            self._make_roi(self.drawn[selected].obj)

    def clear(self) -> None:
        self._remove_items()
        self._objects = []
        self.selected = None
        self.mask_item.clear()
        self.mask_rgba = None

    def _remove_items(self) -> None:
        for d in self.drawn.values():
            d.rect.hide()
            d.text.hide()
            self._pool.append((d.rect, d.text))
        self.drawn.clear()
        if self.roi is not None:
            self.view_box.removeItem(self.roi)
            self.roi = None

    def _draw_masks(self) -> None:
        shape = self.view.image_shape()
        masked = [o for o in self._objects if o.mask is not None and o.status != "rejected"]
        if shape is None or not masked:
            self.mask_item.clear()
            self.mask_rgba = None
            return
        rgba = np.zeros((*shape, 4), np.uint8)
        for obj in sorted(masked, key=lambda o: o.anomalous):  # red masks on top
            if obj.mask.shape != shape:
                continue  # a prediction for another size of this scan: boxes still show
            rgba[obj.mask] = (*object_colour(obj), MASK_ALPHA[obj.anomalous])
        self.mask_rgba = rgba
        self.mask_item.setImage(rgba, autoLevels=False, levels=(0, 255))
        self.mask_item.setRect(0, 0, shape[1], shape[0])

    def _draw_object(self, obj: ReviewObject) -> None:
        colour = object_colour(obj)
        x0, y0, x1, y1 = obj.box_xyxy
        style = {
            "pending": Qt.PenStyle.DashLine,
            "rejected": Qt.PenStyle.DotLine,
        }.get(obj.status, Qt.PenStyle.SolidLine)
        width = 3 if obj.anomalous and obj.status != "rejected" else 2
        rect, label = self._pool.pop() if self._pool else self._new_items()
        rect.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        rect.setPen(pg.mkPen(colour, width=width, style=style))
        rect.setZValue(obj.anomalous)
        rect.setToolTip(describe(obj))
        text = f"{obj.label}"
        if obj.score is not None:
            text += f" {obj.score:.2f}"
        if obj.anomaly_score is not None:
            text += f" · a {obj.anomaly_score:.2f}"
        label.set_text(text + STATUS_MARKS.get(obj.status, ""), colour)
        label.setPos(x0, y0)
        label.setToolTip(describe(obj))
        rect.show()
        label.show()
        self.drawn[obj.id] = DrawnObject(obj, rect, label, colour)

    def _new_items(self) -> tuple[QGraphicsRectItem, ObjectLabel]:
        rect = QGraphicsRectItem(self.layer)
        label = ObjectLabel(self.layer)
        label.setZValue(5)
        return rect, label

    def _make_roi(self, obj: ReviewObject) -> None:
        x0, y0, x1, y1 = obj.box_xyxy
        roi = pg.ROI(
            (x0, y0),
            (x1 - x0, y1 - y0),
            pen=pg.mkPen(SELECTED_RGB, width=2),
            hoverPen=pg.mkPen(SELECTED_RGB, width=3),
            handlePen=pg.mkPen(SELECTED_RGB),
            movable=True,
            rotatable=False,
            resizable=False,
            removable=False,
        )
        for corner, anchor in (
            ((0, 0), (1, 1)),
            ((1, 1), (0, 0)),
            ((1, 0), (0, 1)),
            ((0, 1), (1, 0)),
        ):
            roi.addScaleHandle(corner, anchor)
        roi.setZValue(30)
        roi.setToolTip(describe(obj))
        roi.sigRegionChangeFinished.connect(lambda r, oid=obj.id: self._on_roi_changed(oid, r))
        self.view_box.addItem(roi, ignoreBounds=True)
        self.roi = roi

    def _on_roi_changed(self, obj_id: str, roi: pg.ROI) -> None:
        x, y = roi.pos()
        w, h = roi.size()
        self.boxEdited.emit(obj_id, (float(x), float(y), float(x + w), float(y + h)))

    # ----- picking ------------------------------------------------------------------------
    def object_at(self, x: float, y: float) -> ReviewObject | None:
        """The smallest drawn object whose box holds (x, y): nested objects stay reachable."""
        hits = [
            o
            for o in self._objects
            if o.box_xyxy[0] <= x <= o.box_xyxy[2] and o.box_xyxy[1] <= y <= o.box_xyxy[3]
        ]
        if not hits:
            return None
        return min(
            hits, key=lambda o: (o.box_xyxy[2] - o.box_xyxy[0]) * (o.box_xyxy[3] - o.box_xyxy[1])
        )

    def objects(self) -> list[ReviewObject]:
        """The objects drawn now, in drawing order."""
        return list(self._objects)
