package dev.mobius.server.artifacts;

import java.io.IOException;
import java.io.InputStream;
import org.apache.commons.fileupload2.core.AbstractFileUpload;
import org.apache.commons.fileupload2.core.DiskFileItem;
import org.apache.commons.fileupload2.core.DiskFileItemFactory;
import org.apache.commons.fileupload2.core.FileItemInputIterator;
import org.apache.commons.fileupload2.core.RequestContext;

/**
 * The parts of a {@code multipart/form-data} body, read one after the other straight from the
 * request stream with Commons FileUpload's streaming iterator: nothing is buffered beyond the
 * parser's own small window, and no part is written to disk.
 */
final class FormParts extends AbstractFileUpload<FormParts.Body, DiskFileItem, DiskFileItemFactory> {
    /** A request body and what its headers say about it. */
    record Body(String contentType, long contentLength, InputStream stream) {}

    FormParts() {
        setSizeMax(-1);
        setFileSizeMax(-1);
        // Every part of CreateArtifactRequest once, with room for the refusals of unknown ones.
        setFileCountMax(32);
    }

    @Override
    public FileItemInputIterator getItemIterator(Body body) throws IOException {
        return getItemIterator(new RequestContext() {
            @Override
            public String getCharacterEncoding() {
                return "UTF-8";
            }

            @Override
            public long getContentLength() {
                return body.contentLength();
            }

            @Override
            public String getContentType() {
                return body.contentType();
            }

            @Override
            public InputStream getInputStream() {
                return body.stream();
            }

            @Override
            public boolean isMultipartRelated() {
                return false;
            }
        });
    }

    @Override
    public java.util.Map<String, java.util.List<DiskFileItem>> parseParameterMap(Body body) {
        throw new UnsupportedOperationException("parts are streamed, never collected");
    }

    @Override
    public java.util.List<DiskFileItem> parseRequest(Body body) {
        throw new UnsupportedOperationException("parts are streamed, never collected");
    }
}
