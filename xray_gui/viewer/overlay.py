"""The findings overlay: masks, boxes and labels of one scan's objects drawn over the ScanView.

It only draws what it is given (the review store's merged view of model findings and analyst
decisions) and reports what the analyst does with the mouse: which object was clicked, and the
new box after a selected box was moved or resized. Anomalous objects are red, benign ones a calm
blue; the model's untouched findings are dashed, the analyst's confirmed ones solid, rejected
ones faint grey without a mask. Every box has a dark edge, so it shows on any scan colour;
labels are white on the object's colour and placed so that none hides another; the selected
box is drawn thicker in its own colour, with handles. The analyst's polygons are drawn like
masks, and a selected one has a handle on each vertex instead (drag one to move it, click an
edge to add one, right-click one to remove it, drag inside to move the whole polygon). The
analyst can hide the overlay, fade it, and under the material functions (organic, inorganic,
metal, high and low penetration) masks and polygons are outlined, so the object under them
shows as the function renders it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPolygonItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
)

from engine.colour import ANOMALY_RGB, BENIGN_RGB
from xray_gui.viewer.polygon import shift_onto_image, to_qpolygon

if TYPE_CHECKING:
    from xray_gui.review import ReviewObject
    from xray_gui.viewer.scan_view import ScanView

REJECTED_RGB = (150, 150, 150)
HALO_RGBA = (0, 0, 0, 170)  # the dark edge under every box
STATUS_MARKS = {"pending": "", "accepted": " ✓", "corrected": " ✎", "added": " +", "rejected": " ✗"}
MASK_ALPHA = {True: 100, False: 60}  # anomalous masks stand out more
OUTLINE_ALPHA = 230
OUTLINE_PX = 2  # mask outline thickness, in scan pixels
# image functions that colour materials: a filled mask would hide what they show
OUTLINE_FUNCTIONS = frozenset(
    {"organic", "inorganic", "metal", "high_penetration", "low_penetration"}
)
LABEL_TRIES = 8  # label positions tried above and below the natural one before giving up


def label_background(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """The object's colour, darkened where white text on it would be hard to read."""
    r, g, b = colour
    luminance = (0.299 * r + 0.587 * g + 0.114 * b) / 255
    if luminance <= 0.45:
        return colour
    k = 0.45 / luminance
    return round(r * k), round(g * k), round(b * k)


class ObjectLabel(QGraphicsRectItem):
    """A label that keeps its screen size at any zoom, white on its object's colour, sitting
    just above its anchor point, or `offset` screen pixels lower (to keep clear of others).

    Plain Qt items (not pyqtgraph's TextItem) under one parent: a hundred of them draw in a few
    milliseconds, where TextItems took most of a frame to make and follow every view change.
    """

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setPen(pg.mkPen(None))
        self.text = QGraphicsSimpleTextItem(self)
        self.text.setBrush(QBrush(QColor(255, 255, 255)))
        self.offset = 0.0

    def set_text(self, text: str, colour: tuple[int, int, int]) -> None:
        self.text.setText(text)
        self.setBrush(QBrush(QColor(*label_background(colour), 230)))
        self.set_offset(0.0)

    def size(self) -> tuple[float, float]:
        """(width, height) in screen pixels."""
        box = self.text.boundingRect()
        return box.width() + 4, box.height() + 2

    def set_offset(self, offset: float) -> None:
        """Move the label `offset` screen pixels down from its place above the anchor."""
        self.offset = offset
        w, h = self.size()
        self.text.setPos(2, -h + 1 + offset)
        self.setRect(QRectF(0, -h + offset, w, h))


@dataclass
class DrawnObject:
    """The graphics items of one object, kept so tests and hover can find them."""

    obj: ReviewObject
    rect: QGraphicsRectItem
    halo: QGraphicsRectItem
    text: ObjectLabel
    colour: tuple[int, int, int]
    shape: QGraphicsPolygonItem | None = None  # the analyst's polygon, when drawn as one


def mask_outline(mask: np.ndarray, thickness: int = OUTLINE_PX) -> np.ndarray:
    """The pixels of `mask` within `thickness` of its edge (4-neighbour erosion)."""
    inner = mask.copy()
    for _ in range(thickness):
        shrunk = inner.copy()
        shrunk[1:, :] &= inner[:-1, :]
        shrunk[:-1, :] &= inner[1:, :]
        shrunk[:, 1:] &= inner[:, :-1]
        shrunk[:, :-1] &= inner[:, 1:]
        shrunk[0, :] = shrunk[-1, :] = False
        shrunk[:, 0] = shrunk[:, -1] = False
        inner = shrunk
    return mask & ~inner


def object_colour(obj: ReviewObject) -> tuple[int, int, int]:
    if obj.status == "rejected":
        return REJECTED_RGB
    return ANOMALY_RGB if obj.anomalous else BENIGN_RGB


def keep_on_image(
    box: tuple[float, float, float, float], width: float, height: float
) -> tuple[float, float, float, float]:
    """`box` moved back onto a width × height image, keeping its size, then clipped to it."""
    x0, y0, x1, y1 = box
    dx = -x0 if x0 < 0 else min(0.0, width - x1) if x1 - x0 <= width else 0.0
    dy = -y0 if y0 < 0 else min(0.0, height - y1) if y1 - y0 <= height else 0.0
    x0, x1 = (min(max(v + dx, 0.0), width) for v in (x0, x1))
    y0, y1 = (min(max(v + dy, 0.0), height) for v in (y0, y1))
    return x0, y0, x1, y1


def describe(obj: ReviewObject, *, short: bool = False) -> str:
    """One line about an object, as tooltips and the selection message show it; `short` for
    the hover read-out, which shares the status bar with the pixel values."""
    if short:  # e.g. "bottle 0.90 · ANOMALOUS 0.80 · pending m0"
        flag = "ANOMALOUS" if obj.anomalous else "benign"
        if obj.anomaly_score is not None:
            flag += f" {obj.anomaly_score:.2f}"
        label = obj.label if obj.score is None else f"{obj.label} {obj.score:.2f}"
        return f"{label} · {flag} · {obj.status} {obj.id}"
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
    polygonEdited = Signal(str, object)  # object id, [(x, y), ...] after a vertex edit or move

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
        self._pool: list[tuple[QGraphicsRectItem, QGraphicsRectItem, ObjectLabel]] = []
        self._shapes: list[QGraphicsPolygonItem] = []  # polygon items not in use
        self.selected: str | None = None
        self.roi: pg.ROI | None = None  # the handles on the selected box, None when none
        self._handles: pg.ROI | None = None  # made once and reused: ROIs deleted in the middle
        self._handles_id: str | None = None  # of a mouse event can crash the scene
        self.vertex_roi: pg.PolyLineROI | None = None  # the selected polygon's vertex handles
        self._vertices: pg.PolyLineROI | None = None  # made once and reused, as the box's
        self._vertices_id: str | None = None
        self._vertices_shown: tuple | None = None  # (id, points) the vertex handles show
        self.mask_rgba: np.ndarray | None = None
        self.editable = True  # False in draw mode: a drag then draws, it never moves a box
        self.shown = True  # the analyst can hide the whole overlay (V)
        self.opacity = 1.0
        self.mask_style = "fill"  # or "outline", under the material functions
        self._objects: list[ReviewObject] = []
        self._label_rects: dict[str, QRectF] = {}  # where each label is, in view pixels
        self.view_box.sigRangeChanged.connect(lambda *_: self._place_labels())
        self.view_box.sigResized.connect(lambda *_: self._place_labels())

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
        self._update_handles()
        self._place_labels()

    def set_editable(self, on: bool) -> None:
        """Whether the selected box has handles to move and resize it (not in draw mode)."""
        self.editable = bool(on)
        self._update_handles()

    def set_shown(self, on: bool) -> None:
        """Show or hide masks, boxes, labels and handles (hidden, nothing can be picked)."""
        self.shown = bool(on)
        self.layer.setVisible(self.shown)
        self.mask_item.setVisible(self.shown)
        self._update_handles()

    def set_opacity(self, opacity: float) -> None:
        """Fade the whole overlay, 0 (invisible) to 1, to see the scan under it."""
        self.opacity = min(max(float(opacity), 0.0), 1.0)
        for item in (self.layer, self.mask_item, self._handles, self._vertices):
            if item is not None:
                item.setOpacity(self.opacity)

    def set_mask_style(self, style: str) -> None:
        """ "fill" (the plain image) or "outline" (the material functions)."""
        if style not in ("fill", "outline"):
            raise ValueError(f"mask style is fill or outline, not {style!r}")
        if style != self.mask_style:
            self.mask_style = style
            self._draw_masks()
            for d in self.drawn.values():
                if d.shape is not None:
                    self._style_shape(d.shape, d.obj)

    def clear(self) -> None:
        self._remove_items()
        self._objects = []
        self.selected = None
        self.mask_item.clear()
        self.mask_rgba = None

    def _remove_items(self) -> None:
        for d in self.drawn.values():
            for item in (d.rect, d.halo, d.text):
                item.hide()
            self._pool.append((d.rect, d.halo, d.text))
            if d.shape is not None:
                d.shape.hide()
                self._shapes.append(d.shape)
        self.drawn.clear()
        self._label_rects.clear()
        self._update_handles()

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
            if self.mask_style == "outline":
                rgba[mask_outline(obj.mask)] = (*object_colour(obj), OUTLINE_ALPHA)
            else:
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
        if obj.id == self.selected:
            width += 2  # the selection keeps its colour: it is drawn thicker, with handles
        rect, halo, label = self._pool.pop() if self._pool else self._new_items()
        box = QRectF(x0, y0, x1 - x0, y1 - y0)
        rect.setRect(box)
        rect.setPen(pg.mkPen(colour, width=width, style=style))
        rect.setZValue(1 + obj.anomalous + 2 * (obj.id == self.selected))
        rect.setToolTip(describe(obj))
        halo.setRect(box)
        halo.setPen(pg.mkPen(HALO_RGBA, width=width + 2))
        text = f"{obj.label}"
        if obj.score is not None:
            text += f" {obj.score:.2f}"
        if obj.anomaly_score is not None:
            text += f" · a {obj.anomaly_score:.2f}"
        label.set_text(text + STATUS_MARKS.get(obj.status, ""), colour)
        label.setPos(x0, y0)
        label.setZValue(10 + obj.anomalous + 2 * (obj.id == self.selected))
        label.setToolTip(describe(obj))
        for item in (rect, halo, label):
            item.show()
        shape = None
        if obj.polygon is not None:
            shape = self._shapes.pop() if self._shapes else QGraphicsPolygonItem(self.layer)
            shape.setPolygon(to_qpolygon(obj.polygon))
            shape.setZValue(0.5)  # over the halo, under the boxes
            self._style_shape(shape, obj)
            shape.setToolTip(describe(obj))
            shape.show()
        self.drawn[obj.id] = DrawnObject(obj, rect, halo, label, colour, shape)

    def _style_shape(self, shape: QGraphicsPolygonItem, obj: ReviewObject) -> None:
        """A polygon as a mask is drawn: filled on the plain image, outlined under the material
        functions."""
        colour = object_colour(obj)
        pen = pg.mkPen((*colour, OUTLINE_ALPHA), width=OUTLINE_PX)
        pen.setCosmetic(True)
        shape.setPen(pen)
        fill = self.mask_style == "fill"
        shape.setBrush(
            QBrush(QColor(*colour, MASK_ALPHA[obj.anomalous]))
            if fill
            else QBrush(Qt.BrushStyle.NoBrush)
        )

    def _new_items(self) -> tuple[QGraphicsRectItem, QGraphicsRectItem, ObjectLabel]:
        halo = QGraphicsRectItem(self.layer)
        halo.setZValue(0)  # under every box
        rect = QGraphicsRectItem(self.layer)
        label = ObjectLabel(self.layer)
        return rect, halo, label

    def _place_labels(self) -> None:
        """Put each label above its box's corner, or the nearest place up or down from there
        where it hides no other label; the selected and anomalous ones are placed first."""
        self._label_rects.clear()
        if not self.drawn:
            return
        order = sorted(
            self.drawn.values(),
            key=lambda d: (d.obj.id != self.selected, not d.obj.anomalous, d.obj.box_xyxy[1]),
        )
        placed: list[QRectF] = []
        for d in order:
            x0, y0 = d.obj.box_xyxy[:2]
            anchor = self.view_box.mapViewToDevice(QPointF(x0, y0))
            if anchor is None:
                return  # not laid out yet
            w, h = d.text.size()
            steps = [0] + [k * s for k in range(1, LABEL_TRIES + 1) for s in (1, -1)]
            chosen = None
            for step in steps:
                rect = QRectF(anchor.x(), anchor.y() - h + step * h, w, h)
                if not any(rect.intersects(other) for other in placed):
                    chosen = (step * h, rect)
                    break
            offset, rect = chosen or (0.0, QRectF(anchor.x(), anchor.y() - h, w, h))
            d.text.set_offset(offset)
            placed.append(rect)
            self._label_rects[d.obj.id] = rect

    def label_rect(self, obj_id: str) -> QRectF:
        """Where an object's label is, in the viewer's pixels."""
        return QRectF(self._label_rects[obj_id])

    def _update_handles(self) -> None:
        """Put the handles on the selected box (in its colour), or on the vertices of the
        selected polygon, or hide them: none selected, draw mode, or the overlay hidden."""
        obj = self.drawn[self.selected].obj if self.selected in self.drawn else None
        editing = obj is not None and self.editable and self.shown
        if not (editing and obj.polygon is not None):
            self._hide_vertices()
        if not editing or obj.polygon is not None:
            if self._handles is not None:
                self._handles.hide()
            self.roi, self._handles_id = None, None
            if editing:
                self._show_vertices(obj)
            return
        roi = self._handles if self._handles is not None else self._make_handles()
        x0, y0, x1, y1 = obj.box_xyxy
        shape = self.view.image_shape()
        roi.maxBounds = QRectF(0, 0, shape[1], shape[0]) if shape is not None else None
        colour = QColor(*object_colour(obj))
        roi.setPen(pg.mkPen(colour, width=2))
        roi.hoverPen = pg.mkPen(colour.lighter(140), width=3)
        for handle in roi.getHandles():
            handle.pen = handle.currentPen = pg.mkPen(colour.lighter(140), width=2)
            handle.update()
        self._handles_id = None  # no edit signal while it is placed
        roi.setPos((x0, y0), update=False)
        roi.setSize((x1 - x0, y1 - y0), update=False)
        roi.stateChanged(finish=False)
        roi.setToolTip(describe(obj))
        roi.setOpacity(self.opacity)
        roi.show()
        self.roi, self._handles_id = roi, obj.id

    def _make_handles(self) -> pg.ROI:
        roi = pg.ROI(
            (0, 0),
            (1, 1),
            handleHoverPen=pg.mkPen((255, 255, 255), width=2),
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
        roi.sigRegionChangeFinished.connect(self._on_handles_moved)
        self.view_box.addItem(roi, ignoreBounds=True)  # dragged or resized: within maxBounds
        self._handles = roi
        return roi

    def _hide_vertices(self) -> None:
        if self._vertices is not None:
            self._vertices.hide()
        self.vertex_roi, self._vertices_id = None, None

    def _show_vertices(self, obj: ReviewObject) -> None:
        """A handle on each vertex of the selected polygon, in its colour. The handles are only
        remade when the polygon changed, never while one is being dragged (edits arrive after
        the mouse event, see `polygonEdited`)."""
        roi = self._vertices if self._vertices is not None else self._make_vertices()
        self._vertices_id = None  # no edit signal while it is placed
        colour = QColor(*object_colour(obj))
        roi.setPen(pg.mkPen(colour, width=2))
        roi.hoverPen = pg.mkPen(colour.lighter(140), width=3)
        if self._vertices_shown != (obj.id, obj.polygon) or roi.pos() != QPointF(0, 0):
            roi.setPos((0, 0), update=False)
            roi.setPoints([list(p) for p in obj.polygon])
            self._vertices_shown = (obj.id, obj.polygon)
        for segment in roi.segments:
            segment.pen = segment.currentPen = pg.mkPen(colour, width=2)
            segment.update()
        for handle in roi.getHandles():
            handle.pen = handle.currentPen = pg.mkPen(colour.lighter(140), width=2)
            handle.update()
        roi.setToolTip(describe(obj))
        roi.setOpacity(self.opacity)
        roi.show()
        self.vertex_roi, self._vertices_id = roi, obj.id

    def _make_vertices(self) -> pg.PolyLineROI:
        roi = pg.PolyLineROI([], closed=True, movable=True, removable=False)
        roi.setZValue(30)
        roi.sigRegionChangeFinished.connect(self._on_vertices_moved)
        self.view_box.addItem(roi, ignoreBounds=True)
        self._vertices = roi
        return roi

    def vertices(self) -> list[tuple[float, float]]:
        """Where the vertex handles are now, in image pixels (none shown: [])."""
        roi = self.vertex_roi
        if roi is None:
            return []
        return [(p.x(), p.y()) for p in (roi.mapToParent(h.pos()) for h in roi.getHandles())]

    def _on_vertices_moved(self, _roi: pg.ROI) -> None:
        if self._vertices_id is None:
            return
        points = self.vertices()
        shape = self.view.image_shape()
        if shape is not None and points:
            points = shift_onto_image(points, shape[1], shape[0])
        self._vertices_shown = None  # the store's answer redraws them
        self.polygonEdited.emit(self._vertices_id, points)

    def _on_handles_moved(self, roi: pg.ROI) -> None:
        if self._handles_id is not None:
            self._on_roi_changed(self._handles_id, roi)

    def _on_roi_changed(self, obj_id: str, roi: pg.ROI) -> None:
        x, y = roi.pos()
        w, h = roi.size()
        box = (float(x), float(y), float(x + w), float(y + h))
        shape = self.view.image_shape()
        if shape is not None:
            box = keep_on_image(box, shape[1], shape[0])
        self.boxEdited.emit(obj_id, box)

    # ----- picking ------------------------------------------------------------------------
    def object_at(self, x: float, y: float) -> ReviewObject | None:
        """The smallest drawn object whose box holds (x, y): nested objects stay reachable.
        None while the overlay is hidden: what cannot be seen cannot be picked."""
        if not self.shown:
            return None
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
