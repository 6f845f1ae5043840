"""The course model: lab manifests, workspaces, checks, solves, progress and the self-test.

Content (``labs/``, ``solutions/``, ``graders/``, ``docs/labs/``) is data: checks and solves are
loaded by file path when they run, never imported with this package.
"""
