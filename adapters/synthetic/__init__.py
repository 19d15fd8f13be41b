"""Synthetic, reproducible children's index data, and corrupted queries with ground truth.

Nothing here describes a real child. The public functions:

- ``generate_children(authority, count, seed)``: ``ChildRecord``s of one borough;
- ``generate_involvements(children, seed)``: ``Involvement``s for them;
- ``corrupted_queries(children, n, seed)``: ``(Subject, expected local_id or None)``;
- ``write_csv(directory, children, involvements)``: the two CSV exports.
"""

from adapters.synthetic.children import generate_children, generate_involvements
from adapters.synthetic.csvfiles import write_csv
from adapters.synthetic.queries import corrupted_queries

__all__ = ["corrupted_queries", "generate_children", "generate_involvements", "write_csv"]
