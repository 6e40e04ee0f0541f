package dev.mobius.server.artifacts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.FormParam;
import jakarta.ws.rs.ext.ParamConverter;
import jakarta.ws.rs.ext.ParamConverterProvider;
import java.lang.annotation.Annotation;
import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.Map;

/**
 * The {@code tags} form part (a JSON object of strings, sent as text) as a parameter. Jersey
 * refuses to start with a resource parameter it could not fill, and the generated
 * {@code createArtifact} declares the part as a {@code Map}; uploads are read by
 * {@link ArtifactUploads} from the stream itself, so this converter only has to exist and be right.
 */
public final class TagsParam implements ParamConverterProvider {
    private static final TypeReference<Map<String, String>> TAGS = new TypeReference<>() {};
    private final ObjectMapper mapper;

    public TagsParam(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    @Override
    public <T> ParamConverter<T> getConverter(Class<T> rawType, Type genericType, Annotation[] annotations) {
        if (rawType != Map.class || Arrays.stream(annotations).noneMatch(a -> a instanceof FormParam)) {
            return null;
        }
        return new ParamConverter<T>() {
            @Override
            public T fromString(String value) {
                try {
                    return rawType.cast(mapper.readValue(value, TAGS));
                } catch (JsonProcessingException e) {
                    throw new BadRequestException("tags must be a JSON object of strings");
                }
            }

            @Override
            public String toString(T value) {
                try {
                    return mapper.writeValueAsString(value);
                } catch (JsonProcessingException e) {
                    throw new IllegalArgumentException(e);
                }
            }
        };
    }
}
