package s3

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/rust-s2i/rust-s2i-musl/internal/cache"
)

// abortTimeout bounds the abort of a failed upload, which runs even when the
// caller's context is done (a cancelled build must not leave its parts behind).
const abortTimeout = 30 * time.Second

// maxParts is S3's limit on the parts of one upload.
const maxParts = 10000

// multipart uploads blob in parts of s.partSize, s.concurrency at a time, each read
// straight from blob, and completes the upload on opts' If-None-Match condition.
// Until Complete succeeds no object exists; on any failure the upload is aborted.
func (s *Store) multipart(ctx context.Context, key string, blob cache.Blob, opts minio.PutObjectOptions) (err error) {
	name := objectName(key)
	size := blob.Size()
	partSize := max(s.partSize, (size+maxParts-1)/maxParts)
	count := int((size + partSize - 1) / partSize)

	rctx, cancel := context.WithTimeout(ctx, s.saveTimeout)
	id, err := s.core.NewMultipartUpload(rctx, s.bucket, name, minio.PutObjectOptions{ContentType: opts.ContentType})
	cancel()
	if err != nil {
		return s.saveError(key, "starting the upload", err)
	}
	defer func() {
		if err == nil {
			return
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		defer cancel()
		if aerr := s.core.AbortMultipartUpload(actx, s.bucket, name, id); aerr != nil {
			err = fmt.Errorf("%w (and aborting the upload: %v)", err, aerr)
		}
	}()

	parts, err := s.uploadParts(ctx, key, name, id, blob, partSize, count)
	if err != nil {
		return err
	}
	rctx, cancel = context.WithTimeout(ctx, s.saveTimeout)
	defer cancel()
	_, err = s.core.CompleteMultipartUpload(rctx, s.bucket, name, id, parts, opts)
	return s.saveError(key, "completing the upload", err)
}

// uploadParts sends parts 1..count with at most s.concurrency in flight. The first
// failure stops the others.
func (s *Store) uploadParts(ctx context.Context, key, name, id string, blob cache.Blob, partSize int64, count int) ([]minio.CompletePart, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	parts := make([]minio.CompletePart, count)
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var failed error
	for range min(s.concurrency, count) {
		wg.Go(func() {
			for n := range next {
				off := int64(n-1) * partSize
				size := min(partSize, blob.Size()-off)
				rctx, rcancel := context.WithTimeout(ctx, s.saveTimeout)
				p, err := s.core.PutObjectPart(rctx, s.bucket, name, id, n, io.NewSectionReader(blob, off, size), size, minio.PutObjectPartOptions{})
				rcancel()
				if err != nil {
					once.Do(func() {
						failed = s.saveError(key, fmt.Sprintf("part %d of %d", n, count), err)
						cancel(failed)
					})
					continue
				}
				parts[n-1] = minio.CompletePart{PartNumber: n, ETag: p.ETag}
			}
		})
	}
send:
	for n := 1; n <= count; n++ {
		select {
		case next <- n:
		case <-ctx.Done():
			break send
		}
	}
	close(next)
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("s3 cache: saving %s: %w", key, context.Cause(ctx))
	}
	return parts, nil
}
