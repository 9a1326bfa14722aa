"""Polygons on the scan: the outline being drawn (`PolygonSketch`) and plain helpers for the
polygons the overlay draws and edits.

Drawing is labelme's and CVAT's: each click adds a vertex, Enter, a double-click or a click on
the first vertex closes the polygon, Backspace takes back the last vertex, Esc cancels. While
drawing, the outline so far is dashed and a rubber line follows the pointer to where the next
vertex would go.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainterPath, QPolygonF
from PySide6.QtWidgets import QGraphicsPathItem

SKETCH_RGB = (255, 230, 0)  # the colour of the draw-box band: what is being drawn
CLOSE_PX = 8  # a click this near the first vertex (screen pixels) closes the polygon

Point = tuple[float, float]


def to_qpolygon(points: Sequence[Point]) -> QPolygonF:
    return QPolygonF([QPointF(float(x), float(y)) for x, y in points])


def shift_onto_image(points: Sequence[Point], width: float, height: float) -> list[Point]:
    """`points` moved back onto a width × height image keeping their shape (a polygon dragged
    past the edge), then clipped to it (a polygon larger than the image)."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    dx = -x0 if x0 < 0 else min(0.0, width - x1) if x1 - x0 <= width else 0.0
    dy = -y0 if y0 < 0 else min(0.0, height - y1) if y1 - y0 <= height else 0.0
    return [(min(max(x + dx, 0.0), width), min(max(y + dy, 0.0), height)) for x, y in points]


class _Markers(pg.ScatterPlotItem):
    """Vertex markers that take no clicks: every click on the scan reaches the view."""

    def mouseClickEvent(self, ev) -> None:
        ev.ignore()


class PolygonSketch:
    """The polygon being drawn in a ViewBox: its vertices so far, drawn with the rubber line."""

    def __init__(self, view_box: pg.ViewBox) -> None:
        self.points: list[Point] = []
        self._pointer: Point | None = None
        pen = pg.mkPen(SKETCH_RGB, width=2, style=Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.outline = QGraphicsPathItem()
        self.outline.setPen(pen)
        self.outline.setZValue(1000)
        self.vertices = _Markers(
            size=7, pen=pg.mkPen(0, 0, 0), brush=pg.mkBrush(*SKETCH_RGB), pxMode=True
        )
        self.vertices.setZValue(1001)
        for item in (self.outline, self.vertices):
            view_box.addItem(item, ignoreBounds=True)
        self.clear()

    def add(self, x: float, y: float) -> None:
        """A vertex at (x, y) (a click on the same spot as the last one adds nothing)."""
        if not self.points or self.points[-1] != (x, y):
            self.points.append((float(x), float(y)))
        self._redraw()

    def take_back(self) -> bool:
        """Remove the last vertex; False when there was none."""
        if not self.points:
            return False
        self.points.pop()
        self._redraw()
        return True

    def point_at(self, x: float, y: float) -> None:
        """The pointer is at (x, y): the rubber line follows it."""
        self._pointer = (float(x), float(y))
        if self.points:
            self._redraw()

    def clear(self) -> None:
        self.points = []
        self._pointer = None
        self._redraw()

    def _redraw(self) -> None:
        if not self.points:
            self.outline.hide()
            self.vertices.setData([], [])
            return
        path = QPainterPath(QPointF(*self.points[0]))
        for x, y in [*self.points[1:], *([self._pointer] if self._pointer else [])]:
            path.lineTo(x, y)
        self.outline.setPath(path)
        self.outline.show()
        self.vertices.setData([p[0] for p in self.points], [p[1] for p in self.points])
